"""PERSONA Bench benchmark: a run of 1,000 items x 4 methods with the critic (and the summary analysis)
against the mock server at 200 ms, through the real Anthropic SDK; and pass@k for 10,000 items x k = 16.

Command: ``bin/perf bench``. The mock server runs in its own process, so the client's CPU is measured alone.
"""

from __future__ import annotations

import os
import time
import uuid

import numpy as np
from django.core.management import call_command

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer, BenchRun
from benchmarks.bench.services import (
    BENCH_RUN_JOB,
    bench_answers_critique,
    bench_answers_generate,
    bench_run_create,
    bench_run_progress,
    bench_summaries_analyse,
)
from benchmarks.bench.statistics import pass_at_k_curve
from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from core.jobs import JobRun
from core.llm.models import ModelEndpoint
from core.models import Job, JobStatus
from perf.result import Result
from personas.models import Persona, PersonaStatus
from tests.llm_mock import spawn_mock_server

LATENCY = 0.2
CONCURRENCY = 32
ITEMS = 1000
PERSONAS = 100
TAG = "perf-bench"


def _endpoint(url: str, name: str) -> ModelEndpoint:
    endpoint = ModelEndpoint(
        name=f"{TAG}-{name}-{uuid.uuid4().hex[:6]}",
        provider="anthropic",
        model="mock-model",
        base_url=url,
        concurrency=CONCURRENCY,
        timeout_seconds=30,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def _data() -> None:
    attributes = {
        "age": "40",
        "sex": "Female",
        "education": "Bachelor's degree",
        "religion": "None",
        "occupation category": "EDU-Teachers",
        "income": "52000",
    }
    personas = Persona.objects.bulk_create(
        Persona(
            attributes={**attributes, "age": str(20 + i % 60)},
            status=PersonaStatus.CONSISTENT,
            census_record_id=f"{TAG}-{i}",
        )
        for i in range(PERSONAS)
    )
    per_persona = ITEMS // PERSONAS
    prompts = []
    for j in range(per_persona):
        text = f"{TAG}: should my town spend more on topic {j} this year?"
        prompts.append(Prompt.objects.get_or_create(text_sha256=text_digest(text), defaults={"text": text})[0])
    PreferencePair.objects.bulk_create(
        PreferencePair(persona=p, prompt=q, chosen="y_w", rejected="y_l", split=PairSplit.TEST_SEEN)
        for p in personas
        for q in prompts
    )


def _cleanup() -> None:
    runs = BenchRun.objects.filter(name=TAG)
    BenchAnswer.objects.filter(run__in=runs).delete()
    runs.delete()
    Persona.objects.filter(census_record_id__startswith=TAG).delete()
    Prompt.objects.filter(text__startswith=TAG).delete()
    ModelEndpoint.objects.filter(name__startswith=TAG).delete()
    Job.objects.filter(dedupe_key__startswith=TAG).delete()


def _run_throughput() -> list[Result]:
    _data()
    with spawn_mock_server(latency=LATENCY) as url:
        model, critic = _endpoint(url, "model"), _endpoint(url, "critic")
        config = bench_config_parse(
            {
                "name": TAG,
                "models": [model.name],
                "critic": critic.name,
                "items": ITEMS,
                "persona_filter": {},
                "seed": 1,
            }
        )
        run = bench_run_create(config=config)
        job = Job.objects.create(
            kind=BENCH_RUN_JOB,
            params={"run_id": run.pk},
            status=JobStatus.RUNNING,
            dedupe_key=f"{TAG}-{uuid.uuid4().hex}",
        )
        job_run = JobRun(job)
        cpu, wall = time.process_time(), time.perf_counter()
        total, done, _given_up = bench_run_progress(bench_run=run, config=config)
        job_run.set_total(total, already_done=done)
        stages, walls = {}, {}
        for name, stage in (
            ("answers", bench_answers_generate),
            ("critic", bench_answers_critique),
            ("summaries", bench_summaries_analyse),
        ):
            started = time.perf_counter()
            stages[name] = stage(bench_run=run, config=config, job=job_run)
            walls[name] = time.perf_counter() - started
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    calls = sum(stage.requested for stage in stages.values())
    stored = BenchAnswer.objects.filter(run=run).exclude(verdict="pending").count()
    achieved = calls / wall
    ideal = CONCURRENCY / LATENCY
    ratio = achieved / ideal
    note = (
        f"{run.items.count()} items x 4 methods: {calls} calls (answers, critic, summaries) in {wall:.1f} s, "
        f"{stored} answers judged; {achieved:.1f} calls/s vs ideal {ideal:.0f}/s at concurrency {CONCURRENCY}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    per_stage = ", ".join(
        f"{name} {stages[name].requested / walls[name] / ideal:.2f}" for name in stages if stages[name].requested
    )
    return [
        Result(
            "bench",
            "per stage calls/s / ideal",
            min(stages[n].requested / walls[n] / ideal for n in stages),
            "ratio",
            note=per_stage,
        ),
        Result("bench", "run calls/s / (concurrency / latency)", ratio, "ratio", ">= 0.9", ratio >= 0.9, note),
        Result("bench", "client CPU per call", 1000 * cpu / calls, "ms", note="SDK + job progress + upserts"),
    ]


def _pass_at_k() -> list[Result]:
    rng = np.random.default_rng(0)
    n = np.full(10_000, 16)
    c = rng.binomial(16, 0.3, size=10_000)
    pass_at_k_curve(n, c, 16)  # warm up
    started = time.perf_counter()
    curve = pass_at_k_curve(n, c, 16)
    elapsed = time.perf_counter() - started
    note = f"10,000 items x n = 16, the whole curve k = 1..16 (pass@16 = {curve[-1]:.3f})"
    return [Result("bench", "pass@k curve, 10,000 items x k = 16", elapsed, "s", "< 1", elapsed < 1, note)]


def run() -> list[Result]:
    call_command("migrate", verbosity=0)
    _cleanup()
    try:
        return _pass_at_k() + _run_throughput()
    finally:
        _cleanup()
