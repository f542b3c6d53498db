"""Celery worker and broker faults with jobs queued: every job finishes, and exactly once."""

from __future__ import annotations

import json

import pytest

from tests.faults.conftest import App, Worker, wait_for
from tests.faults.services import RedisServer

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]  # the first scenario builds the services too


def jobs_start(app: App, count: int, *, steps: int = 4, step_seconds: float = 0.5) -> list[int]:
    """Start ``count`` jobs the way a coordinator's action does (``job_start``: a row, then the task on commit)."""
    code = f"""
import json
from core.jobs import job_start
from tests.faults.job_kinds import SLEEP_JOB
import uuid
tag = uuid.uuid4().hex
ids = [job_start(kind=SLEEP_JOB, params={{"n": i, "tag": tag, "steps": {steps}, "step_seconds": {step_seconds}}}).pk
       for i in range({count})]
print("JOBS", json.dumps(ids))
"""
    return json.loads(app.shell(code).split("JOBS ")[1])


def journal(app: App) -> dict[int, list[str]]:
    """Each job's events in the order its handler wrote them ("start", "done")."""
    path = app.folder / "journal.txt"
    events: dict[int, list[str]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        event, job_id, _pid = line.split()
        events.setdefault(int(job_id), []).append(event)
    return events


def statuses(app: App, job_ids: list[int]) -> dict[int, str]:
    return dict(app.query("SELECT id, status FROM core_job WHERE id = ANY(%s)", (job_ids,)))


def all_succeeded(app: App, job_ids: list[int]) -> bool:
    return set(statuses(app, job_ids).values()) == {"succeeded"}


def test_worker_sigterm_with_jobs_queued(app: App, worker: Worker) -> None:
    """SIGTERM (a deploy, a scale-down) while a worker runs two jobs and six wait: it finishes the two before it
    exits, the six wait in the queue for the next worker, and every job's handler ran to the end exactly once."""
    job_ids = jobs_start(app, 8, steps=4, step_seconds=0.5)
    wait_for(lambda: "running" in statuses(app, job_ids).values(), timeout=60, what="a job to start")
    assert worker.terminate(timeout=60) == 0
    after_stop = statuses(app, job_ids)
    assert "running" not in after_stop.values(), f"the warm shutdown left a job running: {after_stop}"
    assert "queued" in after_stop.values(), "the worker ran everything before it stopped: nothing was left queued"
    worker.start()
    wait_for(lambda: all_succeeded(app, job_ids), timeout=180, what="every job to succeed")
    events = journal(app)
    assert {job_id: events.get(job_id) for job_id in job_ids} == {job_id: ["start", "done"] for job_id in job_ids}
    attempts = app.query("SELECT id, attempts, done FROM core_job WHERE id = ANY(%s)", (job_ids,))
    assert sorted(attempts) == sorted((job_id, 1, 4) for job_id in job_ids)


def test_redis_flushed_with_jobs_queued(app: App, worker: Worker, redis_server: RedisServer) -> None:
    """The broker loses its queue (FLUSHALL: a Redis restarted without persistence, an eviction) while jobs wait:
    none stays queued, each runs exactly once."""
    worker.stop()
    job_ids = jobs_start(app, 4, steps=1, step_seconds=0.2)
    redis_server.flushall()
    worker.start()
    wait_for(lambda: all_succeeded(app, job_ids), timeout=60, what="the jobs whose tasks were flushed")
    events = journal(app)
    assert {job_id: events.get(job_id) for job_id in job_ids} == {job_id: ["start", "done"] for job_id in job_ids}
