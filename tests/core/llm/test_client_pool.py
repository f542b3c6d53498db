from __future__ import annotations

import ssl

import httpx2._transports.default as httpx_transports
import pytest

from core.llm.models import ModelEndpoint, Provider
from core.llm.providers.anthropic import AnthropicProvider
from core.llm.providers.openai_compatible import OpenAICompatibleProvider
from core.llm.providers.pool import shared_ssl_context


@pytest.mark.parametrize("provider_class", [AnthropicProvider, OpenAICompatibleProvider])
def test_every_pooled_client_uses_the_one_tls_context(provider_class, monkeypatch) -> None:
    """Building a TLS context reads the CA bundle (~28 ms of CPU): a pool of 32 clients must not build 32."""
    contexts = []
    build = httpx_transports.create_ssl_context

    def recording(verify=True, **kwargs):  # the SDK's transport asks for its context here
        contexts.append(verify)
        return build(verify=verify, **kwargs)

    monkeypatch.setattr(httpx_transports, "create_ssl_context", recording)
    provider_name = Provider.ANTHROPIC if provider_class is AnthropicProvider else Provider.OPENAI_COMPATIBLE
    endpoint = ModelEndpoint(name="pool", provider=provider_name, model="m", base_url="https://llm.invalid/v1")
    provider = provider_class(endpoint, api_key="sk-test")
    clients = [provider.clients._factory() for _ in range(8)]
    assert len(clients) == 8
    assert contexts, "the SDK built no transport"
    assert all(isinstance(context, ssl.SSLContext) and context is shared_ssl_context() for context in contexts)
    assert shared_ssl_context().verify_mode == ssl.CERT_REQUIRED  # sharing keeps the SDKs' verification
    assert shared_ssl_context().check_hostname
