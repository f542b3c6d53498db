"""A real Celery worker (prefork) killed with SIGKILL in the middle of a paid judge run.

Celery requeues the message when its pool child dies; the redelivered task waits for the dead child's lease to run
out, takes the job over and resumes it: the job ends succeeded without a click, every reply stored once, and the
model was asked again only for the calls in flight when the child died and the replies read since the runner's last
flush (at most about a second of them). (The dead child's model-call slots in the shared limiter are free again
within the limiter's short lease.)
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from benchmarks.judging.models import Judgment
from benchmarks.judging.services import judge_run_start, judge_upsert
from config.celery import app
from core.jobs import RESUMED_NOTE
from core.llm.endpoints import endpoint_upsert
from core.llm.runner import FLUSH_SECONDS
from core.models import Job, JobStatus
from tests.annotation.factories import pairs_make, persona_make
from tests.llm_mock import MockLLMServer

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "PERSONA_LAB_TEST_JUDGE_KEY"
CONCURRENCY = 2
LATENCY = 0.4
LEASE_SECONDS = 3

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait(job: Job, until: object, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while not until(job):
        assert time.monotonic() < deadline, f"job {job.pk}: {job.status}, {job.done}/{job.total}, {job.error}"
        time.sleep(0.1)
        job.refresh_from_db()
    return job


def test_sigkilled_worker_child_is_taken_over_and_the_job_succeeds(transactional_db, monkeypatch, tmp_path):
    queue = f"test-crash-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "JOB_STALL_SECONDS": str(LEASE_SECONDS),
        "PERSONA_LAB_DATA_DIR": str(tmp_path),
        KEY_ENV: "sk-test-not-a-real-key",
    }
    with MockLLMServer(latency=LATENCY) as mock:
        endpoint, _ = endpoint_upsert(
            name="crash-test",
            provider="anthropic",
            model="mock-model",
            base_url=mock.url,
            api_key_env=KEY_ENV,
            concurrency=CONCURRENCY,
            max_attempts=2,
            timeout_seconds=10.0,
        )
        judge = judge_upsert(name="crash-judge", endpoint=endpoint)
        people = [persona_make(i) for i in range(2)]
        pairs = pairs_make(6, prefix="Crash")
        items = [(person.pk, pair.pk) for person in people for pair in pairs]
        keys = 2 * len(items)  # both orders, one sample
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            job = judge_run_start(judge=judge, items=items)
            job = _wait(job, lambda j: j.status == JobStatus.RUNNING and j.done >= 4, timeout=60)
            (child,) = _children(worker.pid)
            os.kill(child, signal.SIGKILL)
            killed_at = job.done
            job = _wait(job, lambda j: j.status not in (JobStatus.QUEUED, JobStatus.RUNNING), timeout=90)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        calls = mock.state.stats["/v1/messages"]
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert job.error == RESUMED_NOTE
    assert job.done == job.total == keys
    assert killed_at < keys
    assert Judgment.objects.filter(judge=judge).count() == keys
    # Asked twice at most: the calls in flight at the kill and the replies read since the runner's last flush (it
    # flushes at least every FLUSH_SECONDS; replies land CONCURRENCY per LATENCY seconds).
    assert calls <= keys + CONCURRENCY + math.ceil(CONCURRENCY * FLUSH_SECONDS / LATENCY)
