"""The demo step: a small PERSONA Bench run and a small leave-one-out run on the demo data with offline endpoints
(the ``text`` generator answers with every method, the ``persona_overlap`` baseline is the critic and judges)."""

from __future__ import annotations

from benchmarks.bench.config import BenchConfigError, bench_config_parse
from benchmarks.bench.models import BenchRun
from benchmarks.bench.services import bench_run_create, bench_run_start
from core.jobs import job_execute
from core.llm.endpoints import llm_demo_endpoints_ensure

DEMO_RUN = "Demo: offline text generator, persona-overlap critic"
DEMO_LOO = "Demo: leave-one-out (offline)"


def _start(config: dict[str, object]) -> str:
    try:
        run = bench_run_create(config=bench_config_parse(config))
    except BenchConfigError as exc:
        return f"{config['name']}: not started ({exc})"
    job = bench_run_start(bench_run=run)
    job_execute(job_id=job.pk)  # in this process: the demo shows finished results at once
    job.refresh_from_db()
    return f"#{run.pk} {job.status} ({job.done} done, {job.failed} failed or invalid)"


def bench_demo_ensure() -> str:
    """Idempotent: skips runs that exist. Returns one line for bin/demo's output."""
    if BenchRun.objects.filter(name=DEMO_RUN).exists():
        return "PERSONA Bench: demo runs already there."
    llm_demo_endpoints_ensure()
    run = _start(
        {
            "name": DEMO_RUN,
            "models": ["offline-text"],
            "critic": "offline-persona-overlap",
            "items": 12,
            "samples": 4,
            "k": 4,
            "seed": 1,
            "source": {"pairs": ["test_seen", "test_unseen"], "dataset": "demo-offline"},
            "slices": [{"sex": "Male"}, {"sex": "Female"}, {"age": "18-44"}],
        }
    )
    loo = _start(
        {
            "name": DEMO_LOO,
            "evaluation": "leave_one_out",
            "seed": 1,
            "source": {"prompts": "train"},
            "leave_one_out": {
                "attributes": ["sex", "age", "education"],
                "personas": 5,
                "attributes_per_persona": 3,
                "answers": 4,
                "generator": "offline-text",
                "judge": "offline-persona-overlap",
            },
        }
    )
    return f"PERSONA Bench: demo run {run}; leave-one-out run {loo}."
