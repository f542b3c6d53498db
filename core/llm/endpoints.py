"""Services that create and update endpoints, and the one-request health check behind ``manage.py llm_check``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from core.llm.models import ModelEndpoint, Provider
from core.llm.providers import provider_for
from core.llm.service import llm_complete
from core.llm.types import ChoiceSchema, LLMError, LLMRequest, Message

# A shared prefix long enough to be cacheable on every Claude model (the minimum is 1,024-4,096 tokens).
_CHECK_PREFIX = " ".join(["You are checking that prompt caching works for this Persona Lab endpoint."] * 330)


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


@dataclass(frozen=True)
class EndpointCheck:
    ok: bool
    latency_s: float
    model: str
    structured: str  # how the choice came back, or why it did not
    caching: str
    cost_usd: str
    error: str = ""


def llm_check(*, endpoint: ModelEndpoint, check_cache: bool = True) -> EndpointCheck:
    """Send one tiny A/B question (twice, when checking caching) and report what worked."""
    nonce = uuid.uuid4().hex[:8]  # so the response cache, if on, cannot answer for the provider
    request = LLMRequest(
        system="Answer the question.",
        messages=(Message("user", f"Check {nonce}: which letter comes first in the alphabet, A or B?"),),
        choice=ChoiceSchema(options=("A", "B"), options_text=("A", "B")),
        max_tokens=200,
        cache_prefix=_CHECK_PREFIX if check_cache else None,
        key=f"llm_check-{nonce}",
    )
    started = time.monotonic()
    try:
        first = llm_complete(endpoint=endpoint, request=request)
        second = llm_complete(endpoint=endpoint, request=request) if check_cache else None
    except LLMError as error:
        kind = "transient" if error.transient else "permanent"
        return EndpointCheck(False, time.monotonic() - started, endpoint.model, "-", "-", "0", f"{kind}: {error}")
    structured = _structured_mode(endpoint) if first.valid else f"no ({first.error})"
    if second is None:
        caching = "not checked"
    elif endpoint.provider == Provider.OFFLINE:
        caching = "not applicable (offline)"
    elif second.usage.cache_read_tokens:
        caching = f"yes ({first.usage.cache_write_tokens} written, {second.usage.cache_read_tokens} read)"
    else:
        caching = "no (the second call read nothing from the cache)"
    cost = first.cost_usd + (second.cost_usd if second else 0)
    return EndpointCheck(first.valid, first.latency_s, first.model, structured, caching, str(cost), first.error)


def _structured_mode(endpoint: ModelEndpoint) -> str:
    if endpoint.provider == Provider.ANTHROPIC:
        return "yes (forced tool with an enum)"
    if endpoint.provider == Provider.OFFLINE:
        return "yes (offline baseline)"
    supported = getattr(provider_for(endpoint), "json_schema_supported", None)
    return "yes (json_schema)" if supported else "no: the server rejected json_schema; plain-text parsing worked"
