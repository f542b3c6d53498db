from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from benchmarks.models import PreferencePair
from core.models import Job, JobStatus
from tests.factories import wait_for

pytestmark = pytest.mark.django_db


def _import(client: Client, upload: SimpleUploadedFile) -> tuple[Job, str]:
    response = client.post(reverse("pairs-import"), {"file": upload})
    assert response.status_code == 302
    job = wait_for(Job.objects.latest("id"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert response["Location"] == f"{reverse('pairs-import')}?job={job.pk}"
    return job, client.get(response["Location"]).content.decode()


def test_pairs_import_page_starts_a_job(celery_worker: object, client: Client, coordinator: object) -> None:
    client.force_login(coordinator)
    assert reverse("pairs-import") == "/benchmarks/pairs/import/"
    job, page = _import(
        client, SimpleUploadedFile("pairs.jsonl", b'{"prompt": "p?", "chosen": "yes", "rejected": "no"}')
    )
    assert (job.status, job.done) == (JobStatus.SUCCEEDED, 1)
    assert f"Import preference pairs #{job.pk}" in page
    job, page = _import(client, SimpleUploadedFile("pairs.csv", b"prompt,chosen,rejected\nq?,same,same\n"))
    assert job.status == JobStatus.FAILED
    assert "pairs.csv: line 2: the two answers are identical. Nothing was imported." in page
    assert PreferencePair.objects.count() == 1


def test_pairs_import_needs_the_permission(client: Client, analyst: object) -> None:
    client.force_login(analyst)
    assert client.get(reverse("pairs-import")).status_code == 403
