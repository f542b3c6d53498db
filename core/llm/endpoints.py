"""Services that create and update endpoints, and the one-request health check behind ``manage.py llm_check``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.llm.faults import context_size_in, exceeds_context
from core.llm.models import ModelEndpoint, Provider, StructuredOutput
from core.llm.providers import provider_for
from core.llm.service import llm_complete
from core.llm.types import ChoiceSchema, Completion, LLMError, LLMRequest, Message

# A shared prefix long enough to be cacheable on every Claude model (the minimum is 1,024-4,096 tokens): ~4.4k
# tokens, more than a small local server's whole context, so it is cut to fit ``ModelEndpoint.context_window``.
_CHECK_SENTENCE = "You are checking that prompt caching works for this Persona Lab endpoint. "
_CHECK_PREFIX = _CHECK_SENTENCE * 330


def endpoint_upsert(*, name: str, **fields: Any) -> tuple[ModelEndpoint, bool]:
    """Create the endpoint ``name`` or change the given fields of the existing one; validated before saving."""
    endpoint = ModelEndpoint.objects.filter(name=name).first()
    created = endpoint is None
    if endpoint is None:
        endpoint = ModelEndpoint(name=name)
    for field, value in fields.items():
        setattr(endpoint, field, value)
    endpoint.full_clean()
    endpoint.save()
    return endpoint, created


DEMO_ENDPOINTS = {
    "offline-always-a": "always_a",
    "offline-random": "random",
    "offline-shorter-answer": "shorter_answer",
    "offline-persona-overlap": "persona_overlap",
    "offline-text": "text",
}


def llm_demo_endpoints_ensure() -> str:
    """Create the offline baseline endpoints once (a demo step: they need no key and cost nothing)."""
    created = 0
    for name, model in DEMO_ENDPOINTS.items():
        if not ModelEndpoint.objects.filter(name=name).exists():
            endpoint_upsert(name=name, provider=Provider.OFFLINE, model=model, concurrency=1)
            created += 1
    return f"LLM endpoints: {created} offline baseline(s) created, {len(DEMO_ENDPOINTS) - created} already there."


# What llm_check tries, best first: the first mode the server accepts and answers validly in is stored.
_DETECTION_ORDER = (
    StructuredOutput.JSON_SCHEMA.value,
    StructuredOutput.JSON_OBJECT.value,
    StructuredOutput.TOOLS.value,
    StructuredOutput.TEXT.value,
)
_CHARS_PER_TOKEN = 3  # a cautious estimate (English is ~4 characters a token) for sizing the prefix to a context
_CONTEXT_MARGIN_TOKENS = 256  # room for the instructions, the question and the reply


@dataclass(frozen=True)
class EndpointCheck:
    """What ``llm_check`` found; ``warnings`` are problems that let calls through but spoil the results."""

    ok: bool
    latency_s: float
    model: str
    structured: str  # the structured-output mode in use, and how it was found, or why none works
    caching: str
    cost_usd: str
    error: str = ""
    base_url: str = ""
    system_message: str = "not checked"
    context: str = "unknown"
    warnings: tuple[str, ...] = ()


def endpoint_base_url(endpoint: ModelEndpoint) -> str:
    """Where the endpoint's calls go (the provider's public API when ``base_url`` is blank)."""
    if endpoint.provider == Provider.OFFLINE:
        return "(offline: no server)"
    if endpoint.base_url:
        return endpoint.base_url
    return "https://api.anthropic.com" if endpoint.provider == Provider.ANTHROPIC else "https://api.openai.com/v1"


def llm_check(*, endpoint: ModelEndpoint, check_cache: bool = True, detect: bool = True) -> EndpointCheck:
    """Check an endpoint the way a run will use it, and store what was learnt on the endpoint.

    1. An A/B question: on an OpenAI-compatible server each structured-output mode is tried, best first
       (json_schema, json_object + schema, tools, text), and the first the server accepts and answers validly in is
       stored (``detect=False`` keeps the stored mode and only tests it).
    2. Whether the chat template keeps the system message: the same question with and without a system message
       must cost a different number of prompt tokens; equal counts mean the server drops it (and with it the
       persona), which is printed as a warning naming the fix.
    3. Prompt caching, with a shared prefix sized to the endpoint's context window; a server whose context is too
       small says so in its error, the window is stored and the prefix shrunk (or the check skipped, with why).
    """
    nonce = uuid.uuid4().hex[:8]  # so the response cache, if on, cannot answer for the provider
    base_url = endpoint_base_url(endpoint)
    started = time.monotonic()
    spent: list[Decimal] = []
    try:
        first, structured = _check_structured(endpoint, nonce, detect=detect, spent=spent)
    except LLMError as failure:
        return EndpointCheck(
            ok=False,
            latency_s=time.monotonic() - started,
            model=endpoint.model,
            structured="-",
            caching="-",
            cost_usd=str(sum(spent, Decimal(0))),
            error=_failure(failure),
            base_url=base_url,
            context=_context(endpoint),
        )
    warnings: list[str] = []
    system_message = "not applicable (offline)"
    caching = "not applicable (offline)" if check_cache else "not checked"
    error = first.error
    if endpoint.provider != Provider.OFFLINE:
        caching = "not checked"
        try:
            system_message = _check_system_message(endpoint, nonce, warnings=warnings, spent=spent)
            if check_cache:
                caching = _check_caching(endpoint, nonce, spent=spent)
        except LLMError as failure:
            error = _failure(failure)
    return EndpointCheck(
        ok=first.valid and error == first.error,
        latency_s=first.latency_s,
        model=first.model,
        structured=structured,
        caching=caching,
        cost_usd=str(sum(spent, Decimal(0))),
        error=error,
        base_url=base_url,
        system_message=system_message,
        context=_context(endpoint),
        warnings=tuple(warnings),
    )


def _failure(error: LLMError) -> str:
    return f"{'transient' if error.transient else 'permanent'}: {error}"


def _check_request(nonce: str, *, cache_prefix: str | None = None, tag: str = "") -> LLMRequest:
    return LLMRequest(
        system="Answer the question.",
        messages=(Message("user", f"Check {nonce}{tag}: which letter comes first in the alphabet, A or B?"),),
        choice=ChoiceSchema(options=("A", "B"), options_text=("A", "B")),
        max_tokens=200,
        cache_prefix=cache_prefix,
        key=f"llm_check-{nonce}{tag}",
    )


def _check_structured(
    endpoint: ModelEndpoint, nonce: str, *, detect: bool, spent: list[Decimal]
) -> tuple[Completion, str]:
    """The A/B question in the endpoint's mode, or (detecting) in each mode best first; stores the mode found."""
    if endpoint.provider == Provider.OFFLINE:
        first = llm_complete(endpoint=endpoint, request=_check_request(nonce))
        return first, "yes (offline baseline)" if first.valid else f"no ({first.error})"
    if endpoint.provider == Provider.ANTHROPIC:
        if endpoint.structured_output != StructuredOutput.TOOLS:
            _store(endpoint, structured_output=StructuredOutput.TOOLS.value)
        first = llm_complete(endpoint=endpoint, request=_check_request(nonce))
        spent.append(first.cost_usd)
        return first, "tools (a forced tool with an enum)" if first.valid else f"no ({first.error})"
    original = endpoint.structured_output
    candidates = list(_DETECTION_ORDER) if detect else [endpoint.structured_output]
    notes: list[str] = []
    first: Completion | None = None
    while candidates:
        mode = candidates.pop(0)
        if endpoint.structured_output != mode:
            _store(endpoint, structured_output=mode)
        try:
            answer = llm_complete(endpoint=endpoint, request=_check_request(nonce, tag=f"-{mode}"))
        except LLMError as error:
            if first is not None and not error.transient and candidates:
                # The server answered in a better mode (invalidly) but refuses this one: try the next.
                notes.append(f"{mode} refused ({error})")
                continue
            if endpoint.structured_output != original:
                _store(endpoint, structured_output=original)
            raise
        first = answer
        spent.append(first.cost_usd)
        used = endpoint.structured_output  # the provider moved down if the server rejected ``mode``
        if used != mode:
            rejection = getattr(provider_for(endpoint), "last_rejection", "")
            notes.append(f"rejected, last {rejection}" if rejection else f"{mode} rejected")
            candidates = [c for c in candidates if _DETECTION_ORDER.index(c) > _DETECTION_ORDER.index(used)]
        if first.valid:
            tried = f"; {'; '.join(notes)}" if notes else ""
            stored = "stored" if detect else "the stored mode"
            return first, f"{used} ({stored}{tried})"
        notes.append(f"{used} answered invalidly ({first.error})")
    assert first is not None
    if endpoint.structured_output != original:
        _store(endpoint, structured_output=original)
    return first, f"no mode gave a valid answer: {'; '.join(notes)}"


def _store(endpoint: ModelEndpoint, **fields: Any) -> None:
    """Save what the check learnt on ``endpoint`` itself (a new ``updated_at`` makes the next call use it)."""
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save()


def _tokens(completion: Completion) -> int:
    usage = completion.usage
    return usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens


def _check_system_message(endpoint: ModelEndpoint, nonce: str, *, warnings: list[str], spent: list[Decimal]) -> str:
    """Compare prompt tokens with and without a system message: equal counts mean the chat template dropped it."""
    question = (Message("user", f"Check {nonce}: reply with the code word."),)
    system = f"The code word is canary-{nonce}. When asked for the code word, reply with it and nothing else."
    with_system = llm_complete(
        endpoint=endpoint,
        request=LLMRequest(system=system, messages=question, max_tokens=16, key=f"llm_check-{nonce}-system"),
    )
    without = llm_complete(
        endpoint=endpoint,
        request=LLMRequest(system="", messages=question, max_tokens=16, key=f"llm_check-{nonce}-no-system"),
    )
    spent.extend((with_system.cost_usd, without.cost_usd))
    kept, bare = _tokens(with_system), _tokens(without)
    if not kept and not bare:
        return "not checked (the server reports no token usage)"
    if kept <= bare:
        warnings.append(
            f"The server drops the system message ({kept} prompt tokens with it, {bare} without): every call's "
            "instructions and persona are lost. Serve the model with a chat format that folds the system message "
            "into the first user turn — llama-cpp-python: leave --chat_format unset so the model's own (GGUF) "
            "template is used (not 'gemma'); llama.cpp's llama-server: --jinja."
        )
        return f"DROPPED ({kept} prompt tokens with it, {bare} without)"
    repeated = f"canary-{nonce}" in with_system.text
    return (
        f"kept ({kept} prompt tokens with it, {bare} without; code word {'repeated' if repeated else 'not repeated'})"
    )


def _context(endpoint: ModelEndpoint) -> str:
    return f"{endpoint.context_window} tokens" if endpoint.context_window else "unknown"


def _check_prefix(endpoint: ModelEndpoint) -> str | None:
    """The shared prefix for the caching check: the full one, or as much as fits the endpoint's context window."""
    if not endpoint.context_window:
        return _CHECK_PREFIX
    budget = endpoint.context_window - _CONTEXT_MARGIN_TOKENS
    if len(_CHECK_PREFIX) <= budget * _CHARS_PER_TOKEN:
        return _CHECK_PREFIX
    fits = _CHECK_SENTENCE * (budget * _CHARS_PER_TOKEN // len(_CHECK_SENTENCE))
    # Below the provider's minimum cacheable prefix a check proves nothing (the estimate is cautious: x 4/3).
    return fits if len(fits) // 4 >= endpoint.prompt_cache_min_tokens else None


def _check_caching(endpoint: ModelEndpoint, nonce: str, *, spent: list[Decimal]) -> str:
    prefix = _check_prefix(endpoint)
    learnt = ""
    if prefix is None:
        return _too_small(endpoint)
    try:
        first = llm_complete(endpoint=endpoint, request=_check_request(nonce, cache_prefix=prefix, tag="-cache"))
    except LLMError as error:
        if not exceeds_context(error):
            raise
        size = context_size_in(error)
        if size is None or size == endpoint.context_window:
            return f"not checked: the prefix does not fit the server's context ({error})"
        _store(endpoint, context_window=size)
        learnt = f"; context window {size} tokens, from the server's error, stored"
        prefix = _check_prefix(endpoint)
        if prefix is None:
            return _too_small(endpoint) + learnt
        first = llm_complete(endpoint=endpoint, request=_check_request(nonce, cache_prefix=prefix, tag="-cache"))
    second = llm_complete(endpoint=endpoint, request=_check_request(nonce, cache_prefix=prefix, tag="-cache"))
    spent.extend((first.cost_usd, second.cost_usd))
    read, uncached = second.usage.cache_read_tokens, second.usage.input_tokens
    if read:
        written = first.usage.cache_write_tokens
        return (
            f"yes (second call: {read} tokens cached against {uncached} uncached; {written} written by the "
            f"first{learnt})"
        )
    return f"no (the second call read nothing from the cache: {uncached} uncached input tokens{learnt})"


def _too_small(endpoint: ModelEndpoint) -> str:
    return (
        f"not checked: the context window ({endpoint.context_window} tokens) is too small for a cacheable prefix "
        f"(at least {endpoint.prompt_cache_min_tokens} tokens)"
    )
