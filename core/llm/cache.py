"""The optional response cache: identical requests to an identically configured endpoint are answered from the DB.

The key hashes what decides the answer (provider, model, base URL, sampling parameters, default max tokens and the
request minus the caller's ``key``), so a re-run is free and returns exactly what the first run got. Only valid
answers are stored: an invalid one is worth asking again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from core.llm.models import LLMResponse, ModelEndpoint
from core.llm.types import Completion, LLMRequest, Usage


def cache_key(*, endpoint: ModelEndpoint, request: LLMRequest) -> str:
    request_fields = asdict(request)
    request_fields.pop("key")
    payload = {
        "provider": endpoint.provider,
        "model": endpoint.model,
        "base_url": endpoint.base_url,
        "params": endpoint.params,
        "max_tokens": endpoint.max_tokens,
        "request": request_fields,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def completion_to_json(completion: Completion) -> dict[str, Any]:
    data = asdict(completion)
    data["cost_usd"] = str(completion.cost_usd)
    return data


def completion_from_json(data: dict[str, Any]) -> Completion:
    fields = dict(data)
    fields["usage"] = Usage(**fields["usage"])
    fields["cost_usd"] = Decimal(fields["cost_usd"])
    return Completion(**fields)


def cache_lookup(*, endpoint: ModelEndpoint, keys: list[str]) -> dict[str, Completion]:
    """Stored answers by cache key, marked ``from_cache`` and free (their usage is the original call's)."""
    found: dict[str, Completion] = {}
    for start in range(0, len(keys), 500):
        rows = LLMResponse.objects.filter(endpoint=endpoint, key__in=keys[start : start + 500])
        for key, data in rows.values_list("key", "completion"):
            found[key] = replace(completion_from_json(data), from_cache=True, cost_usd=Decimal(0), latency_s=0.0)
    return found


def cache_store(*, endpoint: ModelEndpoint, entries: dict[str, Completion]) -> None:
    rows = [
        LLMResponse(key=key, endpoint=endpoint, completion=completion_to_json(completion))
        for key, completion in entries.items()
        if completion.valid and not completion.from_cache
    ]
    LLMResponse.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
