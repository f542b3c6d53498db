"""Which sampling parameters an endpoint may set: whatever the installed SDK's create() accepts, minus ours.

Read from the SDK's signature rather than a hand-kept list, so an SDK upgrade that drops or adds a keyword (the
``anthropic`` SDK from 1.0 on has no ``temperature``/``top_p``) is reflected the day it is installed.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

# Keywords core.llm sets itself on every call; an endpoint may not override them through its params.
_RESERVED = frozenset(
    {
        "self",
        "model",
        "messages",
        "system",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "response_format",
        "stream",
        "stream_options",
        "n",
        "extra_headers",
        "extra_query",
        "extra_body",
        "timeout",
        "functions",
        "function_call",
    }
)


@cache
def allowed_sampling_params(provider: str) -> frozenset[str]:
    """The keyword names an endpoint of ``provider`` may put in its ``params``."""
    if provider == "anthropic":
        from anthropic.resources.messages import Messages

        create: Any = Messages.create
    elif provider == "openai_compatible":
        from openai.resources.chat.completions import Completions

        create = Completions.create
    else:  # offline baselines take one optional knob
        return frozenset({"seed"})
    return frozenset(inspect.signature(create).parameters) - _RESERVED


def sampling_params_problems(*, provider: str, params: Any) -> list[str]:
    """Human-readable reasons ``params`` cannot be used with ``provider``; empty when they are fine."""
    if not isinstance(params, dict):
        return ["Sampling parameters must be a JSON object."]
    allowed = allowed_sampling_params(provider)
    problems = []
    for name in sorted(params):
        if name not in allowed:
            sdk = _sdk_version(provider)
            problems.append(
                f"{name!r} is not accepted by the installed {sdk} for {provider} endpoints "
                f"(allowed: {', '.join(sorted(allowed))})."
            )
    return problems


def _sdk_version(provider: str) -> str:
    if provider == "anthropic":
        import anthropic

        return f"anthropic SDK {anthropic.__version__}"
    if provider == "openai_compatible":
        import openai

        return f"openai SDK {openai.__version__}"
    return "offline provider"
