from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.models import Job, JobStatus
from personas.models import CensusDataset, Persona
from tests.factories import UserFactory, wait_for
from tests.personas.conftest import DICTIONARY_CSV, HOUSING_CSV, PERSON_CSV
from tests.personas.factories import PersonaFactory


@pytest.fixture
def admin_client_(client: Client, db: None) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _upload(path: object, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())  # type: ignore[attr-defined]


def test_admin_upload_imports_a_dataset_as_a_job(celery_worker: object, admin_client_: Client) -> None:
    changelist = admin_client_.get(reverse("admin:personas_censusdataset_changelist"))
    assert reverse("admin:personas_censusdataset_import").encode() in changelist.content
    assert admin_client_.get(reverse("admin:personas_censusdataset_import")).status_code == 200
    response = admin_client_.post(
        reverse("admin:personas_censusdataset_import"),
        {
            "person_file": _upload(PERSON_CSV),
            "housing_file": _upload(HOUSING_CSV),
            "dictionary_file": _upload(DICTIONARY_CSV),
            "name": "Fixture",
        },
    )
    assert response.status_code == 302
    job = wait_for(Job.objects.get(kind="personas.pums_import"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 31, 31)
    dataset = CensusDataset.objects.get()
    assert (dataset.name, dataset.rows, dataset.person_file) == ("Fixture", 31, "psam_p56_fixture.csv")
    assert not any((Path(settings.DATA_DIR) / "uploads" / "jobs").iterdir())  # the uploads are gone


def test_admin_upload_error_names_the_file_and_stores_nothing(celery_worker: object, admin_client_: Client) -> None:
    response = admin_client_.post(
        reverse("admin:personas_censusdataset_import"),
        {
            "person_file": SimpleUploadedFile("psam_p99.csv", b"RT,SERIALNO\nP,2018HU1\n"),
            "dictionary_file": _upload(DICTIONARY_CSV),
        },
    )
    assert response.status_code == 302
    job = wait_for(Job.objects.get(kind="personas.pums_import"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("psam_p99.csv: is missing the column(s) SPORDER, PWGTP")
    assert job.error.endswith("Nothing was imported.")
    assert CensusDataset.objects.count() == 0


def test_admin_generate_action_asks_then_starts_a_job(
    admin_client_: Client, dataset: CensusDataset, django_capture_on_commit_callbacks: object
) -> None:
    url = reverse("admin:personas_censusdataset_changelist")
    ask = admin_client_.post(url, {"action": "generate_personas", "_selected_action": [dataset.pk]})
    assert b"Start generation" in ask.content
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        started = admin_client_.post(
            url,
            {
                "action": "generate_personas",
                "_selected_action": [dataset.pk],
                "dataset": dataset.pk,
                "n": 7,
                "seed": 1,
                "llm_check_endpoint": "",
                "enrichment_endpoint": "",
            },
        )
    job = Job.objects.get()
    assert started.status_code == 302
    assert started["Location"] == reverse("job-detail", args=[job.pk])
    assert job.kind == "personas.generate"
    assert job.params["n"] == 7
    page = admin_client_.get(started["Location"]).content.decode()
    assert "<dt>Personas asked for</dt><dd>7</dd>" in page


def test_admin_import_reports_the_join_rate_and_refuses_a_taken_name(
    celery_worker: object, admin_client_: Client
) -> None:
    def post(name: str) -> object:
        with PERSON_CSV.open("rb") as person, HOUSING_CSV.open("rb") as housing, DICTIONARY_CSV.open("rb") as book:
            return admin_client_.post(
                reverse("admin:personas_censusdataset_import"),
                {"person_file": person, "housing_file": housing, "dictionary_file": book, "name": name},
                follow=True,
            )

    post("Wyoming fixture")
    job = wait_for(Job.objects.get(kind="personas.pums_import"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED
    assert CensusDataset.objects.get().housing_join_rate == 1.0
    changelist = admin_client_.get(reverse("admin:personas_censusdataset_changelist")).content.decode()
    assert "Households joined" in changelist
    assert "100%" in changelist
    second = post("Wyoming fixture").content.decode()
    assert "A dataset with this name exists" in second
    assert CensusDataset.objects.count() == 1


def test_api_lists_personas_for_analysts_only(client: Client, analyst: object, dataset: CensusDataset) -> None:
    persona = PersonaFactory(dataset=dataset)
    assert client.get("/api/personas/").status_code in (401, 403)
    client.force_login(analyst)
    body = client.get("/api/personas/").json()
    assert body["count"] == 1
    assert body["results"][0]["attributes"]["age"] == "41"
    assert body["results"][0]["persona"].startswith("age: 41\n")
    assert body["results"][0]["sources"]["age"] == "census"
    detail = client.get(f"/api/personas/{persona.public_id}/").json()
    assert detail["dataset"] == dataset.pk
    datasets = client.get("/api/census-datasets/").json()
    assert datasets["results"][0]["marginals"]["sex"]
    assert client.post("/api/personas/", {}).status_code in (403, 405)  # read-only either way
    client.force_login(UserFactory())
    assert client.get("/api/personas/").status_code == 403
    assert Persona.objects.count() == 1
