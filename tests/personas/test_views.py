from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Job, JobStatus
from personas.formats import persona_from_text, persona_to_text
from personas.models import CensusDataset, Persona, PersonaStatus
from personas.pums.importer import census_dataset_import
from personas.services import generated_public_id, personas_generate, personas_import
from tests.factories import wait_for
from tests.personas.conftest import DICTIONARY_CSV, HOUSING_CSV, PERSON_CSV
from tests.personas.factories import ADULT, PersonaFactory
from tests.personas.test_formats import PERSONA_LAYOUT


@pytest.fixture(autouse=True)
def _only_resolvable_nav(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about persona pages: a nav link another app registers before its URLs exist is not ours."""
    from django.urls import NoReverseMatch

    from core import navigation

    def resolvable(name: str) -> bool:
        try:
            reverse(name)
        except NoReverseMatch:
            return False
        return True

    items = {name: item for name, item in navigation._ITEMS.items() if resolvable(name)}
    monkeypatch.setattr(navigation, "_ITEMS", items)


@pytest.fixture
def coordinator_client(client: Client, coordinator: object) -> Client:
    client.force_login(coordinator)
    return client


@pytest.fixture
def analyst_client(client: Client, analyst: object) -> Client:
    client.force_login(analyst)
    return client


def test_card_groups_attributes_and_hides_absent_keys(analyst_client: Client) -> None:
    persona = PersonaFactory(attributes={**ADULT, "fertility": ""})
    response = analyst_client.get(reverse("persona-detail", args=[persona.public_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "About them" in html and "Work and money" in html and "Personality" in html  # noqa: PT018
    assert "Gave birth in the last year" not in html  # absent → hidden
    assert "Health" not in html  # no health attribute at all → no empty section
    assert 'name="viewport"' in html  # phone-readable base


def test_list_filters_by_status_and_attribute(analyst_client: Client) -> None:
    PersonaFactory()
    PersonaFactory(attributes={**ADULT, "sex": "Male", "age": "70"})
    PersonaFactory(status=PersonaStatus.PRUNED, prune_reason="Rules: test")
    url = reverse("persona-list")
    assert analyst_client.get(url).context["page"].paginator.count == 3
    assert analyst_client.get(url, {"status": "pruned"}).context["page"].paginator.count == 1
    assert analyst_client.get(url, {"key": "sex", "value": "male"}).context["page"].paginator.count == 3  # "female"
    assert analyst_client.get(url, {"key": "age", "value": "70"}).context["page"].paginator.count == 1
    assert analyst_client.get(url, {"key": "fertility", "value": "-"}).context["page"].paginator.count == 3
    # "contains" without an attribute searches every attribute's value (never the key names).
    assert analyst_client.get(url, {"value": "Male"}).context["page"].paginator.count == 3
    assert analyst_client.get(url, {"value": "70"}).context["page"].paginator.count == 1
    assert analyst_client.get(url, {"value": "teachers", "status": "pruned"}).context["page"].paginator.count == 1
    assert analyst_client.get(url, {"value": "income"}).context["page"].paginator.count == 0
    partial = analyst_client.get(url, {"status": "pruned"}, headers={"HX-Request": "true"})
    assert b"<h1>" not in partial.content
    assert b"Rules: test" in partial.content


def test_export_is_jsonl_in_persona_format(analyst_client: Client) -> None:
    PersonaFactory()
    response = analyst_client.get(reverse("persona-export"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    record = json.loads(lines[0])
    assert record["persona"] == persona_to_text(ADULT)
    assert len(record["attributes"]) == 33


def test_analyst_may_not_import_or_generate(analyst_client: Client) -> None:
    assert analyst_client.get(reverse("persona-import")).status_code == 403
    assert analyst_client.get(reverse("persona-generate")).status_code == 403


def _upload(client: Client, name: str, data: bytes) -> Job:
    upload = io.BytesIO(data)
    upload.name = name
    response = client.post(reverse("persona-import"), {"file": upload})
    assert response.status_code == 302
    job = Job.objects.latest("id")
    assert response["Location"].endswith(f"?job={job.pk}")
    return wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})


def test_coordinator_imports_personas_as_a_job_and_bad_files_store_nothing(
    celery_worker: object, coordinator_client: Client
) -> None:
    job = _upload(coordinator_client, "personas.json", json.dumps([persona_to_text(ADULT)]).encode())
    assert (job.status, job.kind, job.done, job.total) == (JobStatus.SUCCEEDED, "personas.import", 1, 1)
    assert Persona.objects.get().attributes == ADULT
    page = coordinator_client.get(f"{reverse('persona-import')}?job={job.pk}").content.decode()
    assert f"Import personas #{job.pk}" in page
    assert f'<a href="{reverse("persona-list")}?source=imported">See the imported personas (1 in this file)</a>' in page
    job = _upload(coordinator_client, "bad.jsonl", b'"age: 4"\n"shoe size: 3"\n')
    assert job.status == JobStatus.FAILED
    assert job.error == "bad.jsonl: line 2: unknown attribute key(s): 'shoe size'; nothing was imported."
    page = coordinator_client.get(f"{reverse('persona-import')}?job={job.pk}").content.decode()
    assert "line 2: unknown attribute key(s)" in page
    assert "See the imported personas" not in page
    job = _upload(coordinator_client, "latin.jsonl", '"age: 4, caf\xe9"'.encode("latin-1"))
    assert job.error == "latin.jsonl: is not UTF-8 text; nothing was imported."
    job = _upload(coordinator_client, "nul.jsonl", b'{"age": "4\\u0000"}')
    assert (
        job.error
        == "nul.jsonl: line 1: age contains a NUL character (\\0), which text cannot hold; nothing was imported."
    )
    assert Persona.objects.count() == 1


def test_census_comparison_page_plot_and_csv(analyst_client: Client, dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=20, seed=1)
    page = analyst_client.get(reverse("census-comparison"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Education" in html and "TVD" in html  # noqa: PT018
    plot = analyst_client.get(reverse("census-plot", args=[dataset.pk, "household type"]))
    assert plot["Content-Type"] == "image/svg+xml"
    assert plot.content.startswith(b"<?xml")
    assert analyst_client.get(reverse("census-plot", args=[dataset.pk, "big five scores"])).status_code == 404
    rows = analyst_client.get(reverse("census-comparison-csv", args=[dataset.pk])).content.decode().splitlines()
    assert rows[0].startswith("attribute,category,persona_count")
    sex_rows = [row for row in rows if row.startswith("sex,")]
    assert sum(int(row.split(",")[2]) for row in sex_rows) == Persona.objects.consistent().count()


def test_generate_page_starts_one_job_and_shows_its_progress(
    coordinator_client: Client, dataset: CensusDataset, django_capture_on_commit_callbacks: object
) -> None:
    data = {"dataset": dataset.pk, "n": 5, "seed": 3, "llm_check_endpoint": "", "enrichment_endpoint": ""}
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        response = coordinator_client.post(reverse("persona-generate"), data)
        coordinator_client.post(reverse("persona-generate"), data)  # a double submit starts no second job
    job = Job.objects.get()
    assert job.params == {
        "dataset_id": dataset.pk,
        "n": 5,
        "seed": 3,
        "llm_check_endpoint_id": None,
        "enrichment_endpoint_id": None,
    }
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    page = coordinator_client.get(response["Location"]).content.decode()
    # The job's own page: what was submitted (not the form's defaults) and live progress, no stale status message.
    assert f'Generate personas <span class="muted">#{job.pk}</span>' in page
    assert "<dt>Personas asked for</dt><dd>5</dd>" in page
    assert "<dt>Seed</dt><dd>3</dd>" in page
    assert f'hx-get="{reverse("job-detail", args=[job.pk])}"' in page
    assert "is queued" not in page
    assert f"?dataset={dataset.pk}" in page


def test_llm_check_offers_only_endpoints_that_can_check(coordinator_client: Client, dataset: CensusDataset) -> None:
    from core.llm.endpoints import endpoint_upsert

    claude, _ = endpoint_upsert(name="claude", provider="anthropic", model="claude-x", api_key_env="ANTHROPIC_API_KEY")
    text, _ = endpoint_upsert(name="offline-text", provider="offline", model="text")
    judge, _ = endpoint_upsert(name="offline-random", provider="offline", model="random")
    html = coordinator_client.get(reverse("persona-generate")).content.decode()
    check = html[html.index('name="llm_check_endpoint"') : html.index('name="enrichment_endpoint"')]
    start = html.index('name="enrichment_endpoint"')
    enrich = html[start : html.index("</select>", start)]
    assert f'value="{claude.pk}"' in check
    assert f'value="{text.pk}"' not in check  # an offline "verdict" is a seeded random pick
    assert f'value="{judge.pk}"' not in check
    assert "offline placeholder text" in enrich
    assert f'value="{judge.pk}"' not in enrich
    refused = coordinator_client.post(
        reverse("persona-generate"),
        {"dataset": dataset.pk, "n": 5, "seed": 0, "llm_check_endpoint": text.pk, "enrichment_endpoint": ""},
    )
    assert refused.status_code == 200
    assert not Job.objects.exists()


def test_nav_shows_persona_pages_by_permission(analyst_client: Client) -> None:
    html = analyst_client.get(reverse("home")).content.decode()
    assert reverse("persona-list") in html
    assert reverse("census-comparison") in html


def test_enrich_form_starts_an_enrichment_job(
    coordinator_client: Client, dataset: CensusDataset, django_capture_on_commit_callbacks: object
) -> None:
    from core.llm.endpoints import endpoint_upsert

    endpoint, _ = endpoint_upsert(name="writer-view", provider="offline", model="text")
    assert b"Start enrichment" in coordinator_client.get(reverse("persona-generate")).content
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        response = coordinator_client.post(reverse("persona-enrich"), {"endpoint": endpoint.pk, "dataset": ""})
    assert response.status_code == 302
    assert Job.objects.get().params == {"endpoint_id": endpoint.pk, "dataset_id": None}


def test_imported_text_exports_byte_identical(celery_worker: object, coordinator_client: Client) -> None:
    """Import → export through the pages: key order, empty values and the final newline survive the database."""
    job = _upload(coordinator_client, "personas.json", json.dumps([PERSONA_LAYOUT, persona_to_text(ADULT)]).encode())
    assert job.status == JobStatus.SUCCEEDED, job.error
    exported = b"".join(coordinator_client.get(reverse("persona-export")).streaming_content).decode()
    assert [json.loads(line)["persona"] for line in exported.splitlines()] == [PERSONA_LAYOUT, persona_to_text(ADULT)]


def test_api_writes_the_imported_text_back(analyst_client: Client) -> None:
    persona = personas_import(personas=[persona_from_text(PERSONA_LAYOUT)])[0]
    assert analyst_client.get(f"/api/personas/{persona.public_id}/").json()["persona"] == PERSONA_LAYOUT


def test_same_seed_on_the_same_census_data_exports_the_same_bytes(
    analyst_client: Client, dataset: CensusDataset
) -> None:
    """Two databases are simulated by deleting everything and importing the files again (a new primary key)."""

    def export() -> bytes:
        return b"".join(analyst_client.get(reverse("persona-export")).streaming_content)

    personas_generate(dataset=dataset, n=12, seed=4)
    first = export()
    Persona.objects.all().delete()
    CensusDataset.objects.all().delete()
    again = census_dataset_import(person_path=PERSON_CSV, housing_path=HOUSING_CSV, dictionary_path=DICTIONARY_CSV)
    assert again.pk != dataset.pk
    personas_generate(dataset=again, n=12, seed=4)
    assert export() == first
    record = json.loads(first.splitlines()[0])
    assert record["key"].endswith(":4:0")
    assert record["id"] == str(generated_public_id(record["key"]))
