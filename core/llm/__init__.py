"""All language-model traffic goes through here (the only package that imports ``anthropic`` or ``openai``).

    from core.llm import LLMRequest, Message, ChoiceSchema
    from core.llm.service import llm_complete, llm_complete_many

    completion = llm_complete(endpoint=endpoint, request=LLMRequest(system="…", messages=(Message("user", "…"),)))

The package itself holds only the plain request/response types: ``core.models`` imports ``core.llm.models`` to
register the endpoint models, so nothing that needs the ORM (the services) may load with the package.
See docs/llm.md for endpoints, providers, faults, limits, batches and accounting.
"""

from __future__ import annotations

from core.llm.types import ChoiceSchema, Completion, LLMError, LLMRequest, Message, Usage

__all__ = ["ChoiceSchema", "Completion", "LLMError", "LLMRequest", "Message", "Usage"]
