from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.jobs import (
    MAX_ATTEMPTS,
    RESUMED_NOTE,
    JobCancelled,
    JobError,
    JobRun,
    job_cancel,
    job_claim,
    job_rerun,
    job_start,
    jobs_sweep_stalled,
    register_job_kind,
)
from core.models import Job, JobStatus, Statistic
from core.statistics import countable_models
from tests.factories import JobFactory, wait_for


class FlakyError(Exception):
    transient = True


@register_job_kind("tests.items", label="Test items")
def process_items(run: JobRun) -> None:
    """Writes one Statistic per item; can cancel itself or fail part-way, to exercise resume."""
    count = run.params["count"]
    done_keys = set(Statistic.objects.filter(key__startswith=f"item.{run.job.pk}.").values_list("key", flat=True))
    run.set_total(count, already_done=len(done_keys))
    for index in range(count):
        key = f"item.{run.job.pk}.{index}"
        if key in done_keys:
            continue
        if index == run.params.get("cancel_at") and run.job.attempts == 1:
            job_cancel(job=run.job)
        if index == run.params.get("fail_at") and run.job.attempts == 1:
            raise ValueError(f"item {index} is broken")
        if index == run.params.get("transient_at") and run.job.attempts == 1:
            raise FlakyError("provider overloaded")
        if index in run.params.get("fail_items", ()) and run.job.attempts == 1:
            run.advance(done=0, failed=1)  # an item that failed: nothing stored, a re-run asks it again
            continue
        time.sleep(run.params.get("sleep", 0))
        Statistic.objects.create(key=key, label=key, value=index, computed_at=timezone.now())
        run.advance()


def item_keys(job: Job) -> list[str]:
    return sorted(Statistic.objects.filter(key__startswith=f"item.{job.pk}.").values_list("key", flat=True))


def test_statistics_job_runs_on_a_real_worker(celery_worker, coordinator):
    job = job_start(kind="core.recompute_statistics", started_by=coordinator)
    job = wait_for(job, {JobStatus.SUCCEEDED})
    models = countable_models()
    assert job.total == job.done == len(models)
    assert job.started_by == coordinator
    assert job.finished_at is not None
    assert Statistic.objects.get(key="rows.core.job").value == 1
    assert Statistic.objects.get(key="rows.auth.user").value == 1


def test_failing_job_ends_failed_with_the_error(celery_worker):
    job = wait_for(job_start(kind="tests.items", params={"count": 5, "fail_at": 2}), {JobStatus.FAILED})
    assert job.error == "ValueError: item 2 is broken"
    assert job.done == 2
    # Re-run does only the remaining items and each item exists once.
    job = wait_for(job_rerun(job=job), {JobStatus.SUCCEEDED})
    assert job.done == 5
    assert job.attempts == 2
    assert len(item_keys(job)) == 5


@pytest.mark.parametrize(
    ("done", "failed", "status"),
    [
        (5, 0, JobStatus.SUCCEEDED),
        (0, 0, JobStatus.SUCCEEDED),
        (3, 2, JobStatus.PARTIAL),
        (0, 4, JobStatus.FAILED),
    ],
)
def test_a_finished_jobs_status_follows_from_its_counts(done: int, failed: int, status: JobStatus) -> None:
    assert Job.status_from_counts(done=done, failed=failed) == status


def test_a_job_with_failed_items_finishes_with_failures_and_a_retry_asks_only_those(celery_worker):
    job = wait_for(
        job_start(kind="tests.items", params={"count": 5, "fail_items": [1, 3]}),
        {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED},
    )
    assert job.status == JobStatus.PARTIAL
    assert (job.done, job.failed) == (3, 2)
    assert "2 of 5 items failed" in job.error
    assert job.can_rerun
    assert job.has_failed_items
    job = wait_for(job_rerun(job=job), {JobStatus.SUCCEEDED})
    assert (job.done, job.failed) == (5, 0)
    assert item_keys(job) == [f"item.{job.pk}.{i}" for i in range(5)]


def test_a_job_whose_items_all_failed_ends_failed(celery_worker):
    job = wait_for(
        job_start(kind="tests.items", params={"count": 3, "fail_items": [0, 1, 2]}),
        {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED},
    )
    assert job.status == JobStatus.FAILED
    assert (job.done, job.failed) == (0, 3)
    assert "3 of 3 items failed" in job.error
    assert job.can_rerun


def test_cancelled_job_stops_and_rerun_resumes(celery_worker):
    job = wait_for(job_start(kind="tests.items", params={"count": 6, "cancel_at": 3}), {JobStatus.CANCELLED})
    # The item in flight when the cancel landed is stored but never counted; the re-run recounts from storage.
    deadline = time.monotonic() + 10
    while len(item_keys(job)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the handler's refused advance() comes right after the write
    job.refresh_from_db()
    assert len(item_keys(job)) == 4
    assert job.done == 3
    job = wait_for(job_rerun(job=job), {JobStatus.SUCCEEDED})
    assert job.done == job.total == 6
    assert len(item_keys(job)) == 6


def test_transient_error_is_retried_by_the_worker(celery_worker, settings):
    settings.JOB_RETRY_BASE_SECONDS = 0.05
    job = wait_for(job_start(kind="tests.items", params={"count": 3, "transient_at": 1}), {JobStatus.SUCCEEDED})
    assert job.attempts == 2
    assert job.done == 3
    assert len(item_keys(job)) == 3


def test_cancelled_before_pickup_never_runs(celery_worker):
    job = JobFactory(kind="tests.items", params={"count": 2})
    assert job_cancel(job=job)
    from config.celery import app

    app.send_task("core.run_job", args=[job.pk])
    time.sleep(1)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.attempts == 0
    assert item_keys(job) == []


@pytest.mark.django_db
def test_double_start_returns_the_active_job(coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = job_start(kind="core.recompute_statistics", started_by=coordinator)
        second = job_start(kind="core.recompute_statistics", started_by=coordinator)
    assert first.pk == second.pk
    assert len(callbacks) == 1
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_unknown_kind_is_refused():
    with pytest.raises(JobError, match="Unknown job kind"):
        job_start(kind="nope")


@pytest.mark.django_db
def test_claim_is_won_once():
    job = JobFactory()
    assert job_claim(job_id=job.pk) is True
    assert job_claim(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.attempts == 1


@pytest.mark.django_db
def test_progress_after_cancel_is_refused():
    job = JobFactory()
    job_claim(job_id=job.pk)
    job.refresh_from_db()
    run = JobRun(job)
    run.advance()
    job_cancel(job=job)
    with pytest.raises(JobCancelled):
        run.advance()
    job.refresh_from_db()
    assert job.done == 1
    assert job.status == JobStatus.CANCELLED


@pytest.mark.django_db
def test_rerun_refuses_active_jobs():
    job = JobFactory()
    with pytest.raises(JobError, match="Only jobs that failed"):
        job_rerun(job=job)


@pytest.mark.django_db
def test_sweep_resumes_stalled_jobs_then_gives_up(django_capture_on_commit_callbacks):
    stalled, fresh = JobFactory(), JobFactory()
    for job in (stalled, fresh):
        job_claim(job_id=job.pk)
    Job.objects.filter(pk=stalled.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as callbacks:
        assert jobs_sweep_stalled(stall_after=timedelta(minutes=10)) == 1
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    assert (stalled.status, stalled.error) == (JobStatus.QUEUED, RESUMED_NOTE)  # resumes without a click
    assert len(callbacks) == 1  # sent to a worker again
    assert fresh.status == JobStatus.RUNNING
    # Past MAX_ATTEMPTS it stops resuming: failed, and a re-run continues it.
    Job.objects.filter(pk=stalled.pk).update(
        status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert jobs_sweep_stalled(stall_after=timedelta(minutes=10)) == 1
    stalled.refresh_from_db()
    assert stalled.status == JobStatus.FAILED
    assert "Re-run the job to resume" in stalled.error
    assert stalled.can_rerun


@pytest.mark.django_db
def test_a_stale_lease_is_taken_over_once_and_the_old_claim_is_fenced_off(settings):
    settings.JOB_STALL_SECONDS = 30
    job = JobFactory()
    assert job_claim(job_id=job.pk)
    job.refresh_from_db()
    old_run = JobRun(job)
    assert not job_claim(job_id=job.pk)  # the lease is fresh: the owner may be alive
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=31))
    assert job_claim(job_id=job.pk)  # a redelivered task takes it over ...
    assert not job_claim(job_id=job.pk)  # ... exactly once
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.RUNNING, 2, RESUMED_NOTE)
    with pytest.raises(JobCancelled):  # the first worker, if only slow, stops at its next report
        old_run.advance()
    JobRun(job).advance()
    job.refresh_from_db()
    assert job.done == 1


@pytest.mark.django_db
def test_take_over_is_bounded(settings):
    settings.JOB_STALL_SECONDS = 30
    job = JobFactory()
    job_claim(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(attempts=MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert not job_claim(job_id=job.pk)


def test_heartbeat_renews_the_lease_while_a_step_is_slow(celery_worker, settings):
    """A handler silent for longer than the lease is not taken over: the heartbeat thread keeps it owned."""
    settings.JOB_STALL_SECONDS = 1
    job = job_start(kind="tests.items", params={"count": 2, "sleep": 2.5})
    deadline = time.monotonic() + 30
    while job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED) and time.monotonic() < deadline:
        assert jobs_sweep_stalled() == 0  # the sweep finds no stale lease at any moment
        time.sleep(0.2)
        job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 1, "")
