from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from core.llm import faults
from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint
from personas.models import Persona
from tests.llm_mock import MockLLMServer
from tests.personas.factories import ADULT, PersonaFactory

KEY_ENV = "PERSONA_LAB_TEST_BENCH_KEY"

# Six personas: three men (ages 20, 30, 60) and three women (25, 45, 70).
PEOPLE = [("Male", 20), ("Male", 30), ("Male", 60), ("Female", 25), ("Female", 45), ("Female", 70)]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")


@pytest.fixture
def mock_llm() -> Iterator[MockLLMServer]:
    with MockLLMServer() as server:
        yield server


@pytest.fixture
def endpoint() -> Callable[..., ModelEndpoint]:
    def make(provider: str = "offline", model: str = "text", **fields: Any) -> ModelEndpoint:
        if provider != "offline":
            fields = {"price_input_per_mtok": Decimal(3), "price_output_per_mtok": Decimal(15), **fields}
        row, _ = endpoint_upsert(
            name=fields.pop("name", f"bench-{uuid.uuid4().hex[:8]}"),
            provider=provider,
            model=model,
            api_key_env="" if provider == "offline" else KEY_ENV,
            **{"concurrency": 4, "max_attempts": 2, "timeout_seconds": 5.0, **fields},
        )
        return row

    return make


@pytest.fixture
def bench_data(db: None) -> dict[str, list[Any]]:
    """Six personas x two prompts, each a preference pair in a test split (plus one train pair left out)."""
    personas = [
        PersonaFactory(attributes={**ADULT, "sex": sex, "age": str(age), "religion": f"Faith {i}"})
        for i, (sex, age) in enumerate(PEOPLE)
    ]
    prompts = []
    for i in range(3):
        text = f"Should towns spend more on question {i}?"
        prompts.append(Prompt.objects.create(text=text, text_sha256=text_digest(text)))
    pairs = []
    for persona in personas:
        for j, prompt in enumerate(prompts):
            split = PairSplit.TRAIN if j == 2 else (PairSplit.TEST_SEEN if j == 0 else PairSplit.TEST_UNSEEN)
            pairs.append(
                PreferencePair.objects.create(
                    persona=persona, prompt=prompt, chosen=f"chosen {j}", rejected=f"rejected {j}", split=split
                )
            )
    return {"personas": personas, "prompts": prompts, "pairs": pairs}


def persona_of(pk: int) -> Persona:
    return Persona.objects.get(pk=pk)
