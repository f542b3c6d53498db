"""One dataset stage on one worker process and on two: calls/s, the per-core ceiling and the paper-scale time.

Command: ``DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… bin/perf dataset_workers`` (PostgreSQL and Redis
are needed: real ``celery worker`` processes share the jobs and, through Redis, the endpoint's concurrency cap; on
the embedded default it prints one row saying so). The database is migrated and the rows it writes are deleted.

The critique stage of a planned dataset runs against the mock LLM server (its own process, ``LATENCY`` s a call) as
a stage job spread over shards of ``PERF_DATASET_WORKERS_SHARD`` items (``benchmarks.datasets.shards``): on ONE
worker process (``--pool=threads --concurrency=1``: a job at a time, so a second shard at once needs a second
process), then on TWO, at each size in ``PERF_DATASET_WORKERS_ITEMS`` (items = critique calls; default
``1000,2000,4000``), after a small warm-up stage that loads each worker's code and LLM client. The endpoint's
concurrency cap (``PERF_DATASET_WORKERS_CONCURRENCY``, default 128: 640 calls/s at ``LATENCY``) is far above what one
process drives, so one worker process is the limit. Wall time runs from starting the stage to its end.

Rows: calls/s of one and two workers at the largest size and their ratio (target: two >= 1.5 x one; the note says
how busy the machine was and the CPU a call costs inside and outside the worker), the per-process ceiling in calls/s
per core (calls ÷ the worker processes' CPU seconds: what a core of its own would give) with the ratio it projects
for a core per worker, and the paper-scale generation time (317,200 pairs x 5 calls: y_l, critique, revision, two
verification orders) from a straight line fitted to wall time against calls over the sizes (its largest deviation is
printed, to show the curve is linear).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import Stage, stage_answer_run, stage_start
from config.celery import app
from core.models import Job, JobStatus
from perf.bench_pairs import _cleanup, _dataset, _endpoint, _world
from perf.result import Result
from tests.llm_mock import spawn_mock_server
from tests.worker_process import database_url

ROOT = Path(__file__).resolve().parent.parent
LATENCY = 0.2
CONCURRENCY = int(os.environ.get("PERF_DATASET_WORKERS_CONCURRENCY", "128"))
SIZES = [int(n) for n in os.environ.get("PERF_DATASET_WORKERS_ITEMS", "1000,2000,4000").split(",")]
ITEMS_PER_PERSONA = 10  # bench_pairs' world: 6 train + 2 seen + 2 unseen prompts a persona
# Items a shard: several shards a run, so two workers finish close together (a shard is claimed whole).
SHARD_ITEMS = int(os.environ.get("PERF_DATASET_WORKERS_SHARD", "250"))
WARM_UP_ITEMS = 200
PAPER_PAIRS = 317_200
CALLS_PER_PAIR = 5  # y_l, critique, revision, verification in both orders
LOAD_BEFORE = [0.0, 0.0, 0.0]
FINISHED = {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of every core so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _start_workers(count: int, queue: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDIS_URL": settings.REDIS_URL or "",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DATASET_SHARD_ITEMS": str(SHARD_ITEMS),
        "LOG_LEVEL": "WARNING",
    }
    command = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", queue, "--pool=threads"]
    command += ["--concurrency=1", "--without-mingle", "--without-gossip", "--loglevel=WARNING"]
    workers = [
        subprocess.Popen(
            [*command, "-n", f"bench{i}-{queue}@%h"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    deadline = time.monotonic() + 60
    while len([r for r in app.control.ping(timeout=0.5) or [] if queue in next(iter(r))]) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            _stop(workers)
            raise RuntimeError("the benchmark's celery workers did not start")
    return workers


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def _critique_stage(url: str, items: int, processes: list[subprocess.Popen[bytes]]) -> tuple[int, float, float, float]:
    """Run the critique stage of a fresh ``items``-item dataset on the worker ``processes``: (calls, wall seconds,
    the workers' CPU seconds, the machine's busy share meanwhile)."""
    _forget_jobs()
    _cleanup()
    _world(items // ITEMS_PER_PERSONA, 12, 4)
    endpoint = _endpoint(url + "/v1", "openai_compatible", concurrency=CONCURRENCY)
    dataset = _dataset(
        endpoint, train_per_persona=6, test_seen_per_persona=2, test_unseen_per_persona=2, use_batch=False
    )
    _DATASETS.append(dataset.pk)
    dataset_plan(dataset=dataset)
    stage_answer_run(dataset=dataset)  # y_l shared per prompt: a few calls, here
    cpu_before, (busy_before, total_before) = sum(_cpu_seconds(w.pid) for w in processes), _machine_busy()
    job = stage_start(dataset=dataset, stage=Stage.CRITIQUE)
    while job.status not in FINISHED:
        time.sleep(0.1)
        job.refresh_from_db()
    cpu = sum(_cpu_seconds(w.pid) for w in processes) - cpu_before
    busy, total = _machine_busy()
    if job.status != JobStatus.SUCCEEDED:
        raise RuntimeError(f"critique stage ended {job.status}: {job.error}")
    assert job.finished_at is not None
    wall = (job.finished_at - job.created_at).total_seconds()
    return job.done, wall, cpu, (busy - busy_before) / max(1, total - total_before)


def _fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least squares wall = fixed + per_call x calls over ``points``; and the largest relative deviation."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    per_call = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else mean_y / mean_x
    fixed = mean_y - per_call * mean_x
    deviation = max(abs(fixed + per_call * x - y) / y for x, y in points)
    return fixed, per_call, deviation


def _measure() -> list[Result]:
    LOAD_BEFORE[:] = os.getloadavg()
    runs: dict[int, list[tuple[int, float, float, float]]] = {1: [], 2: []}
    with spawn_mock_server(latency=LATENCY, varied_text=True) as url:
        for workers in (1, 2):
            queue = f"bench-workers-{uuid.uuid4().hex[:8]}"
            app.conf.task_default_queue = queue
            processes = _start_workers(workers, queue)
            try:
                # A first stage loads each worker's code and LLM client (seconds of CPU): not part of the rate.
                _critique_stage(url, WARM_UP_ITEMS * workers, processes)
                runs[workers] = [_critique_stage(url, items, processes) for items in SIZES]
            finally:
                _stop(processes)
    (calls_1, wall_1, cpu_1, busy_1), (calls_2, wall_2, cpu_2, busy_2) = runs[1][-1], runs[2][-1]
    rate_1, rate_2 = calls_1 / wall_1, calls_2 / wall_2
    ratio = rate_2 / rate_1
    cores = os.cpu_count() or 1
    # CPU a call costs outside the workers (mock server, PostgreSQL, Redis, this process), from the machine's busy time.
    rest_ms = 1000 * (busy_1 * cores * wall_1 - cpu_1) / calls_1
    results = [
        Result(
            "dataset_workers",
            "critique calls/s, 1 worker process",
            rate_1,
            "calls/s",
            note=f"{calls_1} calls in {wall_1:.1f} s; machine CPU {100 * busy_1:.0f} % busy",
        ),
        Result(
            "dataset_workers",
            "critique calls/s, 2 worker processes",
            rate_2,
            "calls/s",
            note=f"{calls_2} calls in {wall_2:.1f} s; machine CPU {100 * busy_2:.0f} % busy",
        ),
        Result(
            "dataset_workers",
            "2 workers / 1 worker",
            ratio,
            "ratio",
            ">= 1.5",
            ratio >= 1.5,
            f"{cores} cores shared with the mock server, the database and whatever else runs (load average "
            f"{LOAD_BEFORE[0]:.1f} before; machine {100 * busy_1:.0f} % busy with one "
            f"worker; {rest_ms:.1f} ms a call outside the worker vs {1000 * cpu_1 / calls_1:.1f} ms in it); "
            f"cap {CONCURRENCY} in flight = {CONCURRENCY / LATENCY:.0f} calls/s",
        ),
        Result(
            "dataset_workers",
            "per-process ceiling, 1 worker",
            calls_1 / cpu_1,
            "calls/s/core",
            note=f"{1000 * cpu_1 / calls_1:.2f} ms of worker CPU per call",
        ),
        Result(
            "dataset_workers",
            "per-process ceiling, 2 workers",
            calls_2 / cpu_2,
            "calls/s/core",
            note=f"{1000 * cpu_2 / calls_2:.2f} ms of worker CPU per call (both processes)",
        ),
    ]
    # What the ratio would be with a core per worker process: each at its measured ceiling, up to the endpoint's cap.
    ceiling, cap_rate = calls_1 / cpu_1, CONCURRENCY / LATENCY
    projected = min(2 * ceiling, cap_rate) / min(ceiling, cap_rate)
    results.append(
        Result(
            "dataset_workers",
            "2 / 1 workers projected on a core each",
            projected,
            "ratio",
            note=f"min(2 x {ceiling:.0f}, cap {cap_rate:.0f}) / min({ceiling:.0f}, {cap_rate:.0f}): a projection from "
            "the per-process ceiling, not a measurement",
        )
    )
    paper_calls = PAPER_PAIRS * CALLS_PER_PAIR
    for workers in (1, 2):
        fixed, per_call, deviation = _fit([(calls, wall) for calls, wall, _, _ in runs[workers]])
        hours = (fixed + per_call * paper_calls) / 3600
        curve = ", ".join(f"{calls}: {wall:.1f} s" for calls, wall, _, _ in runs[workers])
        results.append(
            Result(
                "dataset_workers",
                f"paper-scale generation time, {workers} worker{'s' if workers > 1 else ''}",
                hours,
                "h",
                note=f"{paper_calls:,} calls at {1 / per_call:.0f} calls/s + {fixed:.1f} s; "
                f"measured {curve} (line within {100 * deviation:.0f} %)",
            )
        )
    return results


def run() -> list[Result]:
    if connection.vendor != "postgresql" or not (settings.REDIS_URL and settings.CELERY_BROKER_URL.startswith("redis")):
        why = "not run: needs PostgreSQL and Redis (DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://…)"
        return [Result("dataset_workers", "calls/s 1 vs 2 worker processes", float("nan"), "-", note=why)]
    call_command("migrate", verbosity=0)
    default_queue = app.conf.task_default_queue
    try:
        return _measure()
    finally:
        app.conf.task_default_queue = default_queue
        _forget_jobs()
        _cleanup()


_DATASETS: list[int] = []


def _forget_jobs() -> None:
    """The stage jobs and shards of the benchmark's datasets (their datasets go with ``_cleanup``)."""
    Job.objects.filter(params__dataset_id__in=_DATASETS).delete()
    _DATASETS.clear()
