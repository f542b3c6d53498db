"""A queued job whose broker message was lost (Redis restarted without persistence) is sent again by the sweep, or
when the same work is started again, and runs exactly once."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery
from django.urls import reverse
from django.utils import timezone

import core.jobs
from core.jobs import JobRun, job_claim, job_start, jobs_resend_unclaimed, register_job_kind
from core.models import Job, JobStatus, Statistic
from core.tasks import sweep_stalled_jobs
from tests.core.slow_job_kind import SLOW_ITEMS
from tests.factories import JobFactory, UserFactory
from tests.worker_process import wait_until, worker_process, worker_queue


@register_job_kind("tests.resend_noop", label="Test no-op")
def _noop(run: JobRun) -> None:
    run.set_total(0)


def _sent_ago(job: Job, seconds: float) -> None:
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(seconds=seconds))
    job.refresh_from_db()


@pytest.mark.django_db
def test_an_unclaimed_queued_job_is_sent_again_then_less_and_less_often(settings, django_capture_on_commit_callbacks):
    settings.JOB_RESEND_AFTER_SECONDS = 60
    lost, fresh, running = JobFactory(), JobFactory(), JobFactory()
    job_claim(job_id=running.pk)
    for job in (lost, running):
        _sent_ago(job, 61)
    with django_capture_on_commit_callbacks() as callbacks:
        assert jobs_resend_unclaimed() == 1
    assert len(callbacks) == 1
    lost.refresh_from_db()
    assert lost.resends == 1
    assert lost.status == JobStatus.QUEUED
    assert lost.sent_at == lost.resent_at
    assert timezone.now() - lost.resent_at < timedelta(seconds=5)
    fresh.refresh_from_db()
    assert fresh.resends == 0
    # The next re-send waits twice as long, then four times, and no longer.
    for waited, expected_resends in ((61, 1), (121, 2), (239, 2), (241, 3), (241, 4), (241, 5)):
        _sent_ago(lost, waited)
        jobs_resend_unclaimed()
        lost.refresh_from_db()
        assert lost.resends == expected_resends, waited


@pytest.mark.django_db
def test_a_resend_happens_once_however_many_sweeps_race(settings, django_capture_on_commit_callbacks):
    settings.JOB_RESEND_AFTER_SECONDS = 60
    job = JobFactory()
    _sent_ago(job, 61)
    stale_copy = Job.objects.get(pk=job.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        assert core.jobs._resend(job, now=timezone.now())
        assert not core.jobs._resend(stale_copy, now=timezone.now())  # a second sweep read the same row
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_starting_the_same_work_again_resends_a_long_unclaimed_job(settings, django_capture_on_commit_callbacks):
    settings.JOB_RESEND_AFTER_SECONDS = 60
    coordinator = UserFactory(groups=["Coordinator"])
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_start(kind="tests.resend_noop", started_by=coordinator, params={"x": 1})
        assert job_start(kind="tests.resend_noop", started_by=coordinator, params={"x": 1}).pk == job.pk
    assert len(callbacks) == 1  # a double click: one message
    _sent_ago(job, 61)
    with django_capture_on_commit_callbacks() as callbacks:
        again = job_start(kind="tests.resend_noop", started_by=coordinator, params={"x": 1})
    assert again.pk == job.pk
    assert again.resends == 1
    assert len(callbacks) == 1  # the button sent the lost job to the queue again


@pytest.mark.django_db
def test_a_retry_waiting_out_its_back_off_is_not_resent(settings):
    settings.JOB_RESEND_AFTER_SECONDS = 1
    job = JobFactory(sent_at=timezone.now() + timedelta(seconds=300))  # what a transient retry's countdown sets
    assert jobs_resend_unclaimed() == 0
    job.refresh_from_db()
    assert job.resends == 0


def test_the_job_page_says_when_a_job_was_resent(admin_client):
    job = JobFactory()
    _sent_ago(job, 600)
    assert jobs_resend_unclaimed() == 1
    page = admin_client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Re-sent to the queue at" in page


# --- A real worker, a real broker that loses its messages ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Redis:
    """A redis-server of this test's own, without persistence: ``restart`` is the incident (every message lost)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def own_redis() -> Iterator[_Redis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    redis = _Redis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.mark.postgres
@pytest.mark.redis
def test_jobs_whose_messages_were_lost_finish_exactly_once_without_a_click(
    transactional_db, own_redis, monkeypatch, settings
) -> None:
    queue = worker_queue(monkeypatch)
    # This test's jobs go to its own Redis, which it restarts empty; the shared one is never touched.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery reads it before its own settings
    # Not made the current app: core.jobs sends through ``current_app``, which every later test must still find
    # pointing at the project's app (a current app left on this test's stopped Redis broke every job after it).
    sender = Celery("persona_lab", set_as_current=False)
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.update(broker_url=own_redis.url, task_default_queue=queue)
    monkeypatch.setattr(core.jobs, "current_app", sender)
    settings.JOB_RESEND_AFTER_SECONDS = 1
    with worker_process(queue, broker_url=own_redis.url, include=("tests.core.slow_job_kind",)):
        jobs = [job_start(kind=SLOW_ITEMS, params={"count": 4, "sleep": 0.5, "n": n}) for n in range(4)]
        wait_until(lambda: Job.objects.filter(pk=jobs[0].pk, status=JobStatus.RUNNING).exists())
        own_redis.restart()  # the waiting jobs' messages are gone, and so is the running job's unacked one
        time.sleep(2)
        assert Job.objects.filter(pk__in=[j.pk for j in jobs[1:]], status=JobStatus.QUEUED).count() == 3
        deadline = time.monotonic() + 90
        while Job.objects.filter(pk__in=[j.pk for j in jobs]).exclude(status=JobStatus.SUCCEEDED).exists():
            assert time.monotonic() < deadline, list(Job.objects.values_list("pk", "status", "resends"))
            sweep_stalled_jobs()  # what beat does every 15 s
            time.sleep(0.5)
    sender.close()
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempts, job.done, job.error) == (JobStatus.SUCCEEDED, 1, 4, "")
        assert Statistic.objects.filter(key__startswith=f"slow.{job.pk}.").count() == 4
    assert sum(job.resends for job in jobs[1:]) >= 3
