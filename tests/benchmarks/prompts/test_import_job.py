"""The prompts upload as a job: the page stores the file and starts one job, a worker imports it, the page shows the
progress and then the outcome (the link to the prompts, or the refusal with its line)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benchmarks.prompts import import_job
from benchmarks.prompts.import_job import PROMPTS_IMPORT_JOB, prompts_import_start
from benchmarks.prompts.importing import prompts_import
from benchmarks.prompts.models import Prompt
from core import jobs
from core.jobs import job_execute
from core.models import Job, JobStatus
from tests.factories import wait_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prompts"
MANY = "\n".join(f"Is question {i} a fair one to ask?" for i in range(2500)).encode()


def _uploads_left(data_dir: Path) -> list[Path]:
    return list((data_dir / "uploads" / "jobs").iterdir())


def _upload(client: Client, name: str, content: bytes | None = None) -> Job:
    content = (FIXTURES / name).read_bytes() if content is None else content
    response = client.post(reverse("prompt-import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302
    job = Job.objects.get(kind=PROMPTS_IMPORT_JOB, pk=response["Location"].split("?job=")[1])
    assert response["Location"] == f"{reverse('prompt-import')}?job={job.pk}"
    return job


def test_a_good_file_imports_as_a_job_and_the_page_links_to_the_prompts(
    celery_worker: object, client: Client, coordinator: object, data_dir: Path
) -> None:
    client.force_login(coordinator)
    job = wait_for(_upload(client, "prism_clusters_small.csv"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 32, 32)
    assert Prompt.objects.count() == 32
    page = client.get(f"{reverse('prompt-import')}?job={job.pk}").content.decode()
    assert f"Import prompts #{job.pk}" in page
    assert f'<a href="{reverse("prompt-list")}">See the prompts (32 distinct in prism_clusters_small.csv)</a>' in page
    assert not _uploads_left(data_dir)


def test_a_malformed_file_fails_the_job_with_the_line_and_stores_nothing(
    celery_worker: object, client: Client, coordinator: object, data_dir: Path
) -> None:
    client.force_login(coordinator)
    job = wait_for(_upload(client, "malformed.jsonl"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("malformed.jsonl was refused, nothing was imported: line 2: not valid JSON")
    page = client.get(f"{reverse('prompt-import')}?job={job.pk}").content.decode()
    assert "line 2: not valid JSON" in page
    assert "See the prompts" not in page
    assert not Prompt.objects.exists()
    assert not _uploads_left(data_dir)


def test_a_large_file_counts_every_prompt_and_sending_it_again_adds_none(
    celery_worker: object, client: Client, coordinator: object, data_dir: Path
) -> None:
    client.force_login(coordinator)
    content = b"prompt\n" + MANY
    job = wait_for(_upload(client, "many.csv", content), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 2500, 2500)
    # The same file again: every prompt is there already, nothing is added.
    again = wait_for(_upload(client, "many.csv", content), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert again.pk != job.pk
    assert (again.status, again.done, again.total) == (JobStatus.SUCCEEDED, 2500, 2500)
    assert Prompt.objects.count() == 2500


def test_a_double_submit_starts_one_job_and_keeps_one_copy(client: Client, coordinator: object, data_dir: Path) -> None:
    # No worker here: the first job is still queued when the form is sent again.
    client.force_login(coordinator)
    first = _upload(client, "prompts.csv")
    second = _upload(client, "prompts.csv")
    assert second.pk == first.pk
    assert Job.objects.filter(kind=PROMPTS_IMPORT_JOB).count() == 1
    assert _uploads_left(data_dir) == [data_dir / first.params["folder"]]
    other = _upload(client, "prompts.jsonl")
    assert other.pk != first.pk


@pytest.mark.usefixtures("transactional_db")
def test_a_redelivered_or_resumed_job_does_not_duplicate(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []  # the broker: this test delivers the task itself
    monkeypatch.setattr(jobs, "_dispatch", lambda job_id, countdown=None: sent.append(job_id))
    job = prompts_import_start(upload=SimpleUploadedFile("many.csv", b"prompt\n" + MANY))
    assert sent == [job.pk]
    # A worker took the job, stored the first prompts, then died (its heartbeat stopped long ago).
    prompts_import(data=b"prompt\n" + b"\n".join(MANY.splitlines()[:1000]), name="first.csv")
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    job_execute(job_id=job.pk)  # the redelivered task takes it over and finishes it
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.total) == (JobStatus.SUCCEEDED, 2, 2500, 2500)
    assert Prompt.objects.count() == 2500
    job_execute(job_id=job.pk)  # delivered once more: the job has ended, nothing runs
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert Prompt.objects.count() == 2500
    assert sent == [job.pk]
    assert not _uploads_left(data_dir)


def test_an_oversized_upload_is_refused_before_it_is_stored(
    client: Client, coordinator: object, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_job, "MAX_FILE_BYTES", 10)
    client.force_login(coordinator)
    upload = SimpleUploadedFile("big.csv", b"prompt\nIs this file far too large for the limit?\n")
    response = client.post(reverse("prompt-import"), {"file": upload})
    assert response.status_code == 200
    assert "big.csv is over the 10 bytes limit; nothing was imported" in response.content.decode()
    assert not Job.objects.exists()
    assert not (data_dir / "uploads").exists()


def test_the_import_needs_the_permission(client: Client, analyst: object) -> None:
    client.force_login(analyst)
    assert client.get(reverse("prompt-import")).status_code == 403
