"""Memory of a verification run against the number of its requests: flat, because the LLM work-item runner reads
the pairs a chunk at a time, builds each chunk's requests when it sends them and keeps no result past its flush.

Command: ``bin/perf runner_memory``. Uses the configured database (rows are deleted afterwards).

A second row is the same runner's throughput on verification: 1,600 calls (800 pairs, both orders) through the
Anthropic SDK against the mock server (200 ms latency, concurrency 32), calls/s ÷ ideal (32 / 0.2 s). Replies are
flushed in batches (by count and by time) with one job update per flush; before, each reply was one transaction
plus one job update (0.61 of ideal measured in the paper-scale run).

Two datasets of 10,000 and 160,000 pairs (20k and 320k verification requests: both A/B orders) are verified by an
offline judge (``always_a``: instant, so the figure is the runner's own memory, not a server's). Each run is stopped
after its first ``REPLIES`` replies are stored (the runner's first flushes); the row is the peak of Python memory
allocated (``tracemalloc``) from the call to that point — everything a run holds before and while it sends its
first requests: the pair cursor, the request chunk, the replies in the writer's buffer. Before the runner, the same
call listed every pair and built every request first (+147 MB at 20k, +2,204 MB at 320k requests).
"""

from __future__ import annotations

import contextlib
import gc
import resource
import time
import tracemalloc
import uuid

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.verification import dataset_verify
from benchmarks.judging.models import Judge
from benchmarks.judging.services import baseline_judges_ensure, judge_upsert
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import FormCheck, Prompt, text_digest
from core.jobs import JobRun
from core.llm.models import ModelEndpoint
from core.models import Job, JobStatus
from perf.result import Result
from personas.models import Persona, PersonaStatus
from tests.llm_mock import spawn_mock_server

TAG = "bench-runner-memory"
LATENCY = 0.2
CONCURRENCY = 32
THROUGHPUT_PAIRS = 800
REPLIES = 3000  # replies stored before the run is stopped: several chunks and flushes
SIZES = (10_000, 160_000)  # pairs: 20k and 320k verification requests
GRID = 400  # personas x prompts: 160,000 pairs at most
ANSWER = "Start with what matters most to you, then weigh the costs against what you would give up. " * 3


class _Stop(Exception):
    """Raised once the run has stored ``REPLIES`` replies."""


class _StoppingJob(JobRun):
    """A real job's progress that stops the run after its first ``REPLIES`` replies."""

    def advance(self, *, done: int = 1, failed: int = 0) -> None:
        super().advance(done=done, failed=failed)
        self.job.refresh_from_db(fields=["done", "failed"])
        if self.job.done + self.job.failed >= REPLIES:
            raise _Stop


def _cleanup() -> None:
    PreferenceDataset.objects.filter(name__startswith=TAG).delete()
    Judge.objects.filter(name__startswith=TAG).delete()
    ModelEndpoint.objects.filter(name__startswith=TAG).delete()
    Prompt.objects.filter(text__startswith=f"[{TAG}]").delete()
    Persona.objects.filter(attributes__ancestry=TAG).delete()
    Job.objects.filter(kind="perf.runner_memory").delete()


def _world() -> tuple[list[int], list[int]]:
    personas = Persona.objects.bulk_create(
        [
            Persona(
                attributes={"age": str(20 + i % 60), "sex": "Female", "ancestry": TAG}, status=PersonaStatus.CONSISTENT
            )
            for i in range(GRID)
        ],
        batch_size=2000,
    )
    texts = [f"[{TAG}] How should I plan my week, question {i}?" for i in range(GRID)]
    prompts = Prompt.objects.bulk_create(
        [Prompt(text=t, text_sha256=text_digest(t), form_check=FormCheck.PASSED) for t in texts], batch_size=2000
    )
    return [p.pk for p in personas], [p.pk for p in prompts]


def _dataset(n: int, judge: Judge, personas: list[int], prompts: list[int]) -> PreferenceDataset:
    dataset = PreferenceDataset.objects.create(name=f"{TAG}-{n}-{uuid.uuid4().hex[:6]}", verifier=judge)
    pairs = (
        PreferencePair(
            dataset=dataset,
            persona_id=personas[i // GRID],
            prompt_id=prompts[i % GRID],
            rejected=ANSWER,
            chosen=f"{ANSWER} (for you)",
        )
        for i in range(n)
    )
    batch: list[PreferencePair] = []
    for pair in pairs:
        batch.append(pair)
        if len(batch) == 5000:
            PreferencePair.objects.bulk_create(batch)
            batch = []
    PreferencePair.objects.bulk_create(batch)
    return dataset


def _peak_mb(dataset: PreferenceDataset) -> float:
    job = _StoppingJob(
        Job.objects.create(kind="perf.runner_memory", dedupe_key=uuid.uuid4().hex, status=JobStatus.RUNNING)
    )
    gc.collect()
    tracemalloc.start()
    with contextlib.suppress(_Stop):
        dataset_verify(dataset=dataset, job=job)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _throughput(personas: list[int], prompts: list[int]) -> tuple[float, str]:
    with spawn_mock_server(latency=LATENCY) as url:
        endpoint = ModelEndpoint(
            name=f"{TAG}-{uuid.uuid4().hex[:8]}",
            provider="anthropic",
            model="mock-sonnet",
            base_url=url,
            concurrency=CONCURRENCY,
            timeout_seconds=30,
        )
        endpoint.full_clean()
        endpoint.save()
        judge = judge_upsert(name=f"{TAG}-{uuid.uuid4().hex[:6]}", endpoint=endpoint)
        dataset = _dataset(THROUGHPUT_PAIRS, judge, personas, prompts)
        row = Job.objects.create(kind="perf.runner_memory", dedupe_key=uuid.uuid4().hex, status=JobStatus.RUNNING)
        job = JobRun(row)
        cpu_started, started = _cpu_seconds(), time.perf_counter()
        dataset_verify(dataset=dataset, job=job)
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    calls = 2 * THROUGHPUT_PAIRS
    achieved, ideal = calls / wall, CONCURRENCY / LATENCY
    # The worker's own ceiling: calls per second of CPU it used (the mock server and the database share the
    # machine's cores with it; on 2 cores the figure can be capped by the machine, not the runner).
    return achieved / ideal, (
        f"{calls:,} calls in {wall:.1f} s = {achieved:.0f} calls/s vs ideal {ideal:.0f}/s; the worker used "
        f"{cpu:.1f} s CPU ({cpu / wall:.0%} of a core): {calls / cpu:.0f} calls/s per core it used"
    )


def _cpu_seconds() -> float:
    """CPU time of this process (the worker: the runner, its threads, the SDK), user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run() -> list[Result]:
    _cleanup()
    try:
        judge = next(j for j in baseline_judges_ensure() if j.name == "baseline-always-a")
        personas, prompts = _world()
        peaks = {n: _peak_mb(_dataset(n, judge, personas, prompts)) for n in SIZES}
        speed, speed_note = _throughput(personas, prompts)
    finally:
        _cleanup()
    small, large = (peaks[n] for n in SIZES)
    ratio = large / small
    return [
        Result(
            "runner memory",
            "verification peak 320k ÷ 20k requests",
            ratio,
            "x",
            "<= 1.2",
            ratio <= 1.2,
            f"peak Python memory until {REPLIES:,} replies are stored: {small:.1f} MB at {2 * SIZES[0]:,} requests, "
            f"{large:.1f} MB at {2 * SIZES[1]:,} (before the runner: +147 MB and +2,204 MB held before the first "
            "request)",
        ),
        Result("runner throughput", "verification calls/s ÷ ideal", speed, "x", ">= 0.9", speed >= 0.9, speed_note),
    ]
