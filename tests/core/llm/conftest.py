from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from core.jobs import JobRun
from core.llm.models import ModelEndpoint
from core.models import JobStatus
from tests.factories import JobFactory
from tests.llm_mock import MockLLMServer
from tests.llm_retries import llm_fast_retries

KEY_ENV = "PERSONA_LAB_TEST_LLM_KEY"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    llm_fast_retries(monkeypatch, key_env=KEY_ENV)


@pytest.fixture
def mock_llm() -> Iterator[MockLLMServer]:
    with MockLLMServer() as server:
        yield server


@pytest.fixture
def make_endpoint(db: None) -> Callable[..., ModelEndpoint]:
    def make(provider: str = "anthropic", **fields: Any) -> ModelEndpoint:
        defaults: dict[str, Any] = {
            # Unique names: with Redis the limits are shared by name across processes and test runs.
            "name": f"test-{provider.replace('_', '-')}-{uuid.uuid4().hex[:8]}",
            "provider": provider,
            "model": "always_a" if provider == "offline" else "mock-model",
            "api_key_env": "" if provider == "offline" else KEY_ENV,
            "concurrency": 4,
            "timeout_seconds": 5.0,
            "max_attempts": 4,
            "price_input_per_mtok": Decimal(3),
            "price_output_per_mtok": Decimal(15),
            "price_cache_read_per_mtok": Decimal("0.3"),
            "price_cache_write_per_mtok": Decimal("3.75"),
        }
        endpoint = ModelEndpoint(**{**defaults, **fields})
        endpoint.full_clean()
        endpoint.save()
        return endpoint

    return make


@pytest.fixture
def anthropic_endpoint(make_endpoint: Callable[..., ModelEndpoint], mock_llm: MockLLMServer) -> ModelEndpoint:
    return make_endpoint("anthropic", base_url=mock_llm.url)


@pytest.fixture
def openai_endpoint(make_endpoint: Callable[..., ModelEndpoint], mock_llm: MockLLMServer) -> ModelEndpoint:
    return make_endpoint("openai_compatible", base_url=mock_llm.openai_url)


@pytest.fixture
def job_run(db: None) -> JobRun:
    return JobRun(JobFactory(status=JobStatus.RUNNING))
