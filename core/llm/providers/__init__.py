"""Provider registry: one client per endpoint configuration, shared by every thread of the process."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol

from core.llm.providers.offline import OfflineProvider
from core.llm.types import Completion, LLMError, LLMRequest

if TYPE_CHECKING:
    from core.llm.models import ModelEndpoint


class LLMProvider(Protocol):
    """What every provider does; one with a batch API also has ``complete_batch(requests, *, heartbeat)``."""

    def complete(self, request: LLMRequest) -> Completion:
        """One call; raises LLMError on failure, returns Completion(valid=False) for an unusable reply."""
        ...


# The SDKs' HTTP clients log every request at INFO: at 100,000 calls that floods worker logs and costs CPU.
# LLMCall rows record each call instead; warnings and errors still get through.
for _name in ("httpx", "httpx2"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_lock = threading.Lock()
_providers: dict[tuple[object, ...], LLMProvider] = {}


def provider_for(endpoint: ModelEndpoint) -> LLMProvider:
    """The provider client for ``endpoint``, built once per configuration (an edit to the row builds a new one)."""
    try:
        api_key = endpoint.api_key()
    except KeyError as exc:
        raise LLMError(
            f"Endpoint {endpoint.name!r}: the environment variable {exc.args[0]} holding its API key is not set.",
            transient=False,
        ) from None
    cache_key = (endpoint.pk, endpoint.name, endpoint.updated_at, api_key)
    with _lock:
        provider = _providers.get(cache_key)
        if provider is None:
            provider = _build(endpoint, api_key)
            _providers[cache_key] = provider
        return provider


def _build(endpoint: ModelEndpoint, api_key: str | None) -> LLMProvider:
    # The SDK providers are imported on first use: importing anthropic and openai costs every process about two
    # seconds at start-up, and most (the web server, offline-only deployments) never call them.
    if endpoint.provider == "anthropic":
        from core.llm.providers.anthropic import AnthropicProvider

        return AnthropicProvider(endpoint, api_key=api_key)
    if endpoint.provider == "openai_compatible":
        from core.llm.providers.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(endpoint, api_key=api_key)
    if endpoint.provider == "offline":
        return OfflineProvider(endpoint)
    raise LLMError(f"Endpoint {endpoint.name!r}: unknown provider {endpoint.provider!r}.", transient=False)
