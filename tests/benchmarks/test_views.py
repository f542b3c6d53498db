from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from benchmarks.pairs.importing import PAIRS_IMPORT_JOB, pairs_import_batch, pairs_import_batch_name
from benchmarks.pairs.models import PairBatch, PreferencePair
from core.models import Job, JobStatus
from tests.factories import JobFactory, wait_for

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
    batch = pairs_import_batch(job)
    assert f'<a href="{reverse("pair-list")}?batch={batch.pk}">See the imported pairs ({batch.name})</a>' in page
    job, page = _import(client, SimpleUploadedFile("pairs.csv", b"prompt,chosen,rejected\nq?,same,same\n"))
    assert job.status == JobStatus.FAILED
    assert "pairs.csv: line 2: the two answers are identical. Nothing was imported." in page
    assert PreferencePair.objects.count() == 1


def test_the_polled_job_state_shows_the_batch_link_when_the_job_ends(client: Client, coordinator: object) -> None:
    client.force_login(coordinator)
    job = JobFactory(kind=PAIRS_IMPORT_JOB, status=JobStatus.RUNNING, params={"name": "p.jsonl"}, total=4, done=2)
    page = client.get(f"{reverse('pairs-import')}?job={job.pk}").content.decode()
    poll = f'hx-get="{reverse("job-detail", args=[job.pk])}" hx-trigger="every 1s" hx-swap="outerHTML"'
    assert poll in page
    state = client.get(reverse("job-detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert poll in state
    assert "See the imported pairs" not in state
    # The job writes its batch and ends: the next poll brings the link and stops polling.
    batch = PairBatch.objects.create(name=pairs_import_batch_name(job))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, done=4)
    state = client.get(reverse("job-detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    link = f'<a href="{reverse("pair-list")}?batch={batch.pk}">See the imported pairs (p.jsonl (import #{job.pk}))</a>'
    assert link in state
    assert "hx-trigger" not in state
    assert 'id="job-state"' in state


def test_pairs_import_needs_the_permission(client: Client, analyst: object) -> None:
    client.force_login(analyst)
    assert client.get(reverse("pairs-import")).status_code == 403
