from __future__ import annotations

import uuid
from typing import Any

import pytest

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.datasets.verification import dataset_verify
from benchmarks.judging.models import Judge
from benchmarks.judging.services import judge_upsert
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptSplit, text_digest
from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint, Provider
from personas.models import Persona
from tests.personas.factories import ADULT, PersonaFactory

TOPICS = ("Religion", "Work", "Family")


def kept_prompts(train: int, heldout: int) -> list[Prompt]:
    """Kept (filtered, controversial) prompts with topics, ``train`` in the train split and ``heldout`` held out."""
    prompts = []
    for index in range(train + heldout):
        text = f"Should people {['pray', 'work', 'marry'][index % 3]} more often, question {index}?"
        prompts.append(
            Prompt(
                text=text,
                text_sha256=text_digest(text),
                topic=TOPICS[index % 3],
                form_check=FormCheck.PASSED,
                controversy=ControversyVerdict.CONTROVERSIAL,
                split=PromptSplit.TRAIN if index < train else PromptSplit.HELDOUT,
            )
        )
    return Prompt.objects.bulk_create(prompts)


def personas_make(n: int) -> list[Persona]:
    sexes = ("Female", "Male")
    return [
        PersonaFactory(attributes={**ADULT, "age": str(30 + i), "sex": sexes[i % 2], "religion": f"Faith{i}"})
        for i in range(n)
    ]


def offline_endpoint(model: str = "text") -> ModelEndpoint:
    endpoint, _ = endpoint_upsert(
        name=f"offline-{model.replace('_', '-')}-{uuid.uuid4().hex[:6]}", provider=Provider.OFFLINE, model=model
    )
    return endpoint


def verifier_judge(model: str = "persona_overlap") -> Judge:
    return judge_upsert(name=f"verifier-{uuid.uuid4().hex[:6]}", endpoint=offline_endpoint(model), samples=1)


def dataset_make(*, generator: ModelEndpoint | None = None, **fields: Any) -> PreferenceDataset:
    defaults: dict[str, Any] = {
        "name": f"ds-{uuid.uuid4().hex[:8]}",
        "train_per_persona": 4,
        "test_seen_per_persona": 2,
        "test_unseen_per_persona": 2,
        "seed": 7,
        "use_batch": False,
    }
    return PreferenceDataset.objects.create(generator=generator or offline_endpoint(), **{**defaults, **fields})


def dataset_full(**fields: Any) -> PreferenceDataset:
    """A dataset planned, generated and verified by offline models (on ``small_world``: 24 pairs, 12 / 6 / 6)."""
    dataset = dataset_make(verifier=verifier_judge(), **fields)
    dataset_plan(dataset=dataset)
    stage_answer_run(dataset=dataset)
    stage_critique_run(dataset=dataset)
    stage_revise_run(dataset=dataset)
    dataset_verify(dataset=dataset)
    return dataset


@pytest.fixture
def small_world(db: None) -> dict[str, Any]:
    return {"prompts": kept_prompts(8, 4), "personas": personas_make(3)}
