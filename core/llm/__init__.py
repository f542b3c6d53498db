"""All language-model traffic goes through here (the only package that imports ``anthropic`` or ``openai``).

    from core.llm import LLMRequest, Message, ChoiceSchema, llm_complete, llm_complete_many

    completion = llm_complete(endpoint=endpoint, request=LLMRequest(system="…", messages=(Message("user", "…"),)))

See docs/llm.md for endpoints, providers, faults, limits, batches and accounting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.llm.types import ChoiceSchema, Completion, LLMError, LLMRequest, Message, Usage

if TYPE_CHECKING:
    from core.llm.service import llm_complete, llm_complete_many

__all__ = [
    "ChoiceSchema",
    "Completion",
    "LLMError",
    "LLMRequest",
    "Message",
    "Usage",
    "llm_complete",
    "llm_complete_many",
]


def __getattr__(name: str) -> Any:
    # The services use the ORM; loading them lazily lets core.models import core.llm.models during app loading.
    if name in ("llm_complete", "llm_complete_many"):
        from core.llm import service

        return getattr(service, name)
    raise AttributeError(f"module 'core.llm' has no attribute {name!r}")
