"""A Celery worker killed with SIGKILL mid-stage: after the sweep and a re-run on a fresh worker, every pair is
there once — none lost, none duplicated (a real worker process, the mock LLM server, the real OpenAI SDK)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction

from benchmarks.datasets.models import ItemStatus
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import Stage, stage_answer_run, stage_start
from core import jobs
from core.jobs import RUN_JOB_TASK, jobs_sweep_stalled
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.datasets.conftest import dataset_make, kept_prompts, personas_make
from tests.llm_mock import MockLLMServer

ROOT = Path(__file__).resolve().parents[3]
KEY_ENV = "PERSONA_LAB_TEST_DATASET_KEY"
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _worker(queue: str) -> subprocess.Popen:
    settings = connection.settings_dict
    database = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": database, KEY_ENV: "sk-test-not-a-real-key"}
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", queue, "--pool=threads", "--concurrency=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sigkilled_worker_mid_stage_resumes_without_loss_or_duplicates(transactional_db, monkeypatch):
    from config.celery import app

    # A queue of its own: a worker started in this test process by another test must not take this job.
    monkeypatch.setitem(app.conf, "task_default_queue", f"kill-{uuid.uuid4().hex[:12]}")

    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    # A queue of its own: the session's in-process test worker (if another test started it) must not take the job.
    queue = f"kill-{uuid.uuid4().hex[:8]}"

    def dispatch(job_id: int, *, countdown: float | None = None) -> None:
        transaction.on_commit(lambda: app.send_task(RUN_JOB_TASK, args=[job_id], queue=queue, countdown=countdown))

    monkeypatch.setattr(jobs, "_dispatch", dispatch)
    kept_prompts(8, 4)
    personas_make(8)
    with MockLLMServer(varied_text=True, latency=0.15) as mock:
        endpoint, _ = endpoint_upsert(
            name=f"kill-{uuid.uuid4().hex[:8]}",
            provider=Provider.OPENAI_COMPATIBLE,
            model="mock-model",
            base_url=mock.openai_url,
            api_key_env=KEY_ENV,
            concurrency=2,
            timeout_seconds=2,
        )
        dataset = dataset_make(generator=endpoint)
        dataset_plan(dataset=dataset)
        stage_answer_run(dataset=dataset)
        total = dataset.items.count()
        worker = _worker(queue)
        try:
            job = stage_start(dataset=dataset, stage=Stage.CRITIQUE)
            _wait(lambda: dataset.items.filter(status=ItemStatus.CRITIQUED).count() >= 5, timeout=120)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        done_before = dataset.items.filter(status=ItemStatus.CRITIQUED).count()
        assert 5 <= done_before < total
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING  # the worker died without a word
        time.sleep(0.01)
        assert jobs_sweep_stalled(stall_after=timedelta(milliseconds=1)) == 1
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED  # the sweep sent it to a worker again: it resumes without a click
        worker = _worker(queue)
        try:
            # The dead worker's concurrency leases, no longer renewed, run out within seconds: the new worker's slots.
            _wait(lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), timeout=200)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert (job.total, job.done, job.failed) == (total, total, 0)
        assert dataset.items.filter(status=ItemStatus.CRITIQUED).count() == total
        assert all(dataset.items.values_list("critique", flat=True))
        critique_calls = [r for r in mock.state.requests if "Critique this answer" in str(r["body"])]
        assert len(critique_calls) < total + 10  # the resumed run asked only for what was left (plus in-flight)
