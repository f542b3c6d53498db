"""Building a study from thousands of personas and pairs: filters + seeded sample or a list, pairs by source,
a live preview, drafts editable until launch, the paper's preset."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Question, Slot, Study, StudyStatus
from annotation.services.study import study_transition
from benchmarks.pairs.importing import pairs_import
from benchmarks.pairs.models import PreferencePair
from personas.models import Persona, PersonaStatus

pytestmark = pytest.mark.django_db

SETTINGS = {
    "pairs_per_persona": 2,
    "raters_per_persona": 2,
    "majority_threshold": 2,
    "attention_checks": 1,
    "reasoning_min_chars": 10,
    "reasoning_max_chars": 500,
    "estimated_minutes": 10,
    "seed": 7,
    "instructions": "Role-play the person.",
}


@pytest.fixture
def coordinator_client(coordinator: object) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


@pytest.fixture
def people() -> list[Persona]:
    jobs = ["SAL-Retail Salespersons", "EDU-Teachers", "SAL-Cashiers", "MED-Nurses", "SAL-Buyers", "EDU-Tutors"]
    return [
        Persona.objects.create(
            attributes={"age": str(30 + i), "sex": "Female", "occupation category": job},
            status=PersonaStatus.PRUNED if i == 4 else PersonaStatus.CONSISTENT,
        )
        for i, job in enumerate(jobs)
    ]


def _import(name: str, prompts: list[str], topic: str) -> int:
    lines = [json.dumps({"prompt": p, "chosen": "yes", "rejected": "no", "topic": topic}) for p in prompts]
    return pairs_import(data="\n".join(lines).encode(), file_format="jsonl", batch_name=name).batch.pk


@pytest.fixture
def batches() -> tuple[int, int]:
    return _import("Mine", ["A?", "B?", "C?"], "food"), _import("Demo", ["D?", "E?", "F?"], "pets")


def test_filters_sample_and_pair_source(coordinator_client: Client, people: list, batches: tuple) -> None:
    mine, _demo = batches
    data = {
        "name": "Sales round",
        "persona_mode": "filter",
        "persona_key": "occupation category",
        "persona_value": "SAL-",
        "sample_size": 2,
        "pairs_from_batch": mine,
        **SETTINGS,
    }
    response = coordinator_client.post(reverse("study-create"), data)
    study = Study.objects.get()
    assert response.status_code == 302
    chosen = set(study.study_personas.values_list("persona_id", flat=True))
    assert len(chosen) == 2
    assert chosen <= {people[0].pk, people[2].pk}  # salespeople, and never the pruned one (people[4])
    prompts = set(
        Question.objects.filter(study_persona__study=study, pair__isnull=False).values_list(
            "pair__prompt__text", flat=True
        )
    )
    assert prompts <= {"A?", "B?", "C?"}
    assert study.selection["pairs"] == {"batch": str(mine)}
    # Same choice and seed → same people.
    coordinator_client.post(reverse("study-create"), {**data, "name": "again"})
    again = Study.objects.get(name="again")
    assert set(again.study_personas.values_list("persona_id", flat=True)) == chosen


def test_explicit_list_skips_pruned_personas(coordinator_client: Client, people: list, batches: tuple) -> None:
    ids = f"{people[1].pk}, #{people[4].pk} {people[5].pk}"
    data = {"name": "Listed", "persona_mode": "list", "persona_ids": ids, **SETTINGS}
    assert coordinator_client.post(reverse("study-create"), data).status_code == 302
    study = Study.objects.get()
    assert list(study.study_personas.order_by("position").values_list("persona_id", flat=True)) == [
        people[1].pk,
        people[5].pk,
    ]
    refused = coordinator_client.post(reverse("study-create"), {**data, "persona_ids": "12, x"})
    assert "Use persona numbers" in refused.content.decode()


def test_too_few_pairs_in_the_source_is_refused_whole(coordinator_client: Client, people: list, batches: tuple) -> None:
    mine, _demo = batches
    data = {"name": "Too many", "persona_mode": "filter", "pairs_from_batch": mine, **SETTINGS, "pairs_per_persona": 4}
    response = coordinator_client.post(reverse("study-create"), data)
    assert response.status_code == 200
    assert "has 3 usable pairs among the chosen ones; the study needs 4" in response.content.decode()
    assert not Study.objects.exists()
    assert not Slot.objects.exists()


def test_preview_counts_personas_and_pairs(coordinator_client: Client, people: list, batches: tuple) -> None:
    _mine, demo = batches
    query = {"persona_mode": "filter", "persona_value": "SAL-", "pairs_from_batch": demo, "pairs_per_persona": 2}
    html = coordinator_client.get(reverse("study-selection-preview"), query).content.decode()
    assert "<strong>2</strong> personas selected" in html  # three salespeople, one pruned
    assert "Retail Salespersons" in html and "SAL-" not in html  # noqa: PT018
    assert "<strong>3</strong> pairs chosen, 3 shared" in html
    assert "D?" in html and "A?" not in html  # noqa: PT018


def test_persona_search_offers_unpruned_matches(coordinator_client: Client, people: list) -> None:
    html = coordinator_client.get(reverse("study-persona-search"), {"persona_search": "sal"}).content.decode()
    assert f'data-add-persona="{people[0].pk}"' in html
    assert f'data-add-persona="{people[4].pk}"' not in html  # pruned
    assert f'data-add-persona="{people[1].pk}"' not in html
    by_number = coordinator_client.get(reverse("study-persona-search"), {"persona_search": f"#{people[3].pk}"})
    assert f'data-add-persona="{people[3].pk}"' in by_number.content.decode()


def test_a_draft_is_editable_until_launch(coordinator_client: Client, people: list, batches: tuple) -> None:
    mine, demo = batches
    data = {"name": "Draft", "persona_mode": "filter", "persona_value": "EDU-", "pairs_from_batch": mine, **SETTINGS}
    coordinator_client.post(reverse("study-create"), data)
    study = Study.objects.get()
    form = coordinator_client.get(reverse("study-edit", args=[study.pk])).content.decode()
    assert 'value="EDU-"' in form  # the edit starts from the choice the draft was built from
    assert f'<option value="{mine}" selected>' in form
    edited = {**data, "name": "Draft v2", "raters_per_persona": 3, "pairs_from_batch": demo}
    assert coordinator_client.post(reverse("study-edit", args=[study.pk]), edited).status_code == 302
    study.refresh_from_db()
    assert (study.name, study.raters_per_persona) == ("Draft v2", 3)
    assert Slot.objects.filter(study=study).count() == 2 * 3
    prompts = set(
        Question.objects.filter(study_persona__study=study, pair__isnull=False).values_list(
            "pair__prompt__text", flat=True
        )
    )
    assert prompts <= {"D?", "E?", "F?"}
    study_transition(study=study, action="launch")
    refused = coordinator_client.post(reverse("study-edit", args=[study.pk]), {**edited, "name": "late"})
    assert refused.status_code == 302
    study.refresh_from_db()
    assert study.name == "Draft v2"
    assert study.status == StudyStatus.LIVE


def test_paper_preset_fills_the_protocol(coordinator_client: Client) -> None:
    html = coordinator_client.get(reverse("study-create"), {"preset": "paper"}).content.decode()
    assert 'name="sample_size" value="20"' in html
    assert 'name="raters_per_persona" value="4"' in html
    assert 'name="pairs_per_persona" value="10"' in html
    assert PreferencePair.objects.count() == 0
