"""A Celery worker killed with SIGKILL mid-run: after the sweep, Resume on a fresh worker finishes the bench run with
every (item, model, method, sample) answered and judged once (a real worker process, the mock server, the real
Anthropic SDK)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer, Verdict
from benchmarks.bench.services import bench_run_create, bench_run_start
from core.jobs import jobs_sweep_stalled
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.bench.conftest import KEY_ENV
from tests.llm_mock import MockLLMServer

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _worker(queue: str) -> subprocess.Popen:
    settings = connection.settings_dict
    database = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": database, KEY_ENV: "sk-test-not-a-real-key"}
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", queue, "--pool=threads", "--concurrency=1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _wait(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sigkilled_worker_mid_run_resumes_without_loss_or_duplicates(transactional_db, bench_data, monkeypatch) -> None:
    from config.celery import app

    # A queue of its own: a worker started in this test process by another test must not take this job.
    monkeypatch.setitem(app.conf, "task_default_queue", f"kill-{uuid.uuid4().hex[:12]}")

    with MockLLMServer(latency=0.15) as mock:
        for name in ("kill-model", "kill-critic"):
            endpoint_upsert(name=f"{name}", provider=Provider.ANTHROPIC, model="mock", base_url=mock.url,
                            api_key_env=KEY_ENV, concurrency=2, timeout_seconds=5)  # fmt: skip
        run = bench_run_create(config=bench_config_parse({
            "name": "kill", "models": ["kill-model"], "critic": "kill-critic", "items": 12, "samples": 2, "k": 2,
            "methods": ["baseline", "persona"],
        }))  # fmt: skip
        keys = 12 * 2 * 2
        queue = app.conf.task_default_queue
        worker = _worker(queue)
        try:
            job = bench_run_start(run=run)
            _wait(lambda: BenchAnswer.objects.filter(run=run).count() >= 8)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        stored = BenchAnswer.objects.filter(run=run)
        assert stored.count() >= 8
        assert stored.exclude(verdict=Verdict.PENDING).count() < keys  # killed mid-run: verdicts are missing
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING  # the worker died without a word
        time.sleep(0.01)
        assert jobs_sweep_stalled(stall_after=timedelta(milliseconds=1)) == 1
        run.refresh_from_db()
        worker = _worker(queue)
        try:
            resumed = bench_run_start(run=run)  # the page's Resume: a re-run of the same job
            assert resumed.pk == job.pk
            _wait(lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), timeout=90)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    answers = BenchAnswer.objects.filter(run=run)
    rows = list(answers.values_list("item_id", "endpoint_id", "method", "sample"))
    assert len(rows) == len(set(rows)) == keys
    assert not answers.filter(verdict=Verdict.PENDING).exists()
    assert job.done + job.failed == job.total == 2 * keys
    answer_calls = [
        r for r in mock.state.requests if "<question>" in str(r["body"]) and "<answer>" not in str(r["body"])
    ]
    assert len(answer_calls) < keys + 10  # the resumed run asked only for what was left (plus what was in flight)
