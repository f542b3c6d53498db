from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from benchmarks.pairs.importing import pairs_import
from benchmarks.pairs.models import PreferencePair, PreferencePairQuerySet
from benchmarks.pairs.sources import (
    _SOURCES,
    PairSource,
    SourceOption,
    pair_choices_describe,
    pair_source_register,
    pairs_select,
)
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def _jsonl(*records: dict[str, str]) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


@pytest.fixture
def two_batches() -> tuple[object, object, object]:
    persona = PersonaFactory()
    first = pairs_import(
        data=_jsonl(
            {"prompt": "Cats?", "chosen": "Yes", "rejected": "No", "topic": "pets"},
            {"prompt": "Tax?", "chosen": "Low", "rejected": "High", "topic": "politics"},
        ),
        file_format="jsonl",
        file_name="first.jsonl",
    )
    second = pairs_import(
        data=_jsonl(
            {"prompt": "Dogs?", "chosen": "Yes", "rejected": "No", "topic": "pets", "persona": str(persona.public_id)},
        ),
        file_format="jsonl",
        batch_name="Written for one person",
    )
    return first.batch, second.batch, persona


def test_each_import_is_a_batch_with_a_unique_name(two_batches: tuple) -> None:
    first, second, _persona = two_batches
    assert first.name.startswith("first.jsonl (")
    assert second.name == "Written for one person"
    again = pairs_import(
        data=_jsonl({"prompt": "Fish?", "chosen": "a", "rejected": "b"}),
        file_format="jsonl",
        batch_name="Written for one person",
    )
    assert again.batch.name == "Written for one person (2)"


def test_sources_select_and_combine_with_and(two_batches: tuple) -> None:
    first, second, _persona = two_batches

    def prompts(**choices: str) -> set[str]:
        return set(pairs_select(choices=choices).values_list("prompt__text", flat=True))

    assert prompts(batch=str(first.pk)) == {"Cats?", "Tax?"}
    assert prompts(topic="pets") == {"Cats?", "Dogs?"}
    assert prompts(topic="pets", kind="shared") == {"Cats?"}
    assert prompts(kind="specific") == {"Dogs?"}
    assert prompts(batch=str(second.pk), topic="politics") == set()
    assert prompts(batch="nonsense") == set()
    assert prompts() == {"Cats?", "Tax?", "Dogs?"}
    assert pair_choices_describe({"topic": "pets", "kind": "shared"}) == (
        "Prompt topic: pets · Written for: Shared (shown to any persona)"
    )


def test_a_new_source_plugs_in(two_batches: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("benchmarks.pairs.sources._SOURCES", dict(_SOURCES))

    def select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
        return pairs.filter(chosen=value)

    pair_source_register(PairSource("answer", "Chosen answer", lambda: [SourceOption("Low", "Low", 1)], select))
    assert list(pairs_select(choices={"answer": "Low"}).values_list("prompt__text", flat=True)) == ["Tax?"]


def test_pairs_page_lists_and_filters_by_source(client: Client, coordinator: object, two_batches: tuple) -> None:
    first, _second, persona = two_batches
    client.force_login(coordinator)
    page = client.get(reverse("pair-list")).content.decode()
    assert "3 pairs." in page
    assert f'<option value="{first.pk}">{first.name} (2)</option>' in page
    assert persona.summary in page
    filtered = client.get(reverse("pair-list"), {"topic": "pets", "kind": "shared"}, headers={"HX-Request": "true"})
    html = filtered.content.decode()
    assert "1 pair." in html
    assert "Cats?" in html and "Dogs?" not in html  # noqa: PT018
    assert "<h1>" not in html


def test_import_page_leads_to_the_new_batch(client: Client, coordinator: object, celery_worker: object) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Job, JobStatus
    from tests.factories import wait_for

    client.force_login(coordinator)
    upload = SimpleUploadedFile("mine.jsonl", _jsonl({"prompt": "p?", "chosen": "yes", "rejected": "no"}))
    response = client.post(reverse("pairs-import"), {"file": upload})
    job = wait_for(Job.objects.get(kind="benchmarks.pairs_import"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED
    batch = PreferencePair.objects.get().batch
    page = client.get(response["Location"])
    assert f"{reverse('pair-list')}?batch={batch.pk}" in page.content.decode()


def test_a_generated_dataset_is_a_pair_source() -> None:
    from benchmarks.datasets.models import PreferenceDataset
    from benchmarks.prompts.models import Prompt, text_digest

    dataset = PreferenceDataset.objects.create(name="Generated v1")
    prompt = Prompt.objects.create(text="Gen?", text_sha256=text_digest("Gen?"))
    persona = PersonaFactory()
    PreferencePair.objects.create(persona=persona, prompt=prompt, chosen="a", rejected="b", dataset=dataset)
    source = _SOURCES["dataset"]
    assert [(o.value, o.label, o.count) for o in source.options()] == [(str(dataset.pk), "Generated v1", 1)]
    assert list(pairs_select(choices={"dataset": str(dataset.pk)}).values_list("prompt__text", flat=True)) == ["Gen?"]
