"""Benchmark jobs: running a judge, running a PERSONA Bench run."""

from __future__ import annotations

from benchmarks.bench.models import BenchRun, Evaluation
from benchmarks.bench.services import BENCH_RUN_JOB, bench_run_execute
from benchmarks.judging.models import Judge
from benchmarks.judging.services import JUDGE_RUN_JOB, judgments_run
from core.jobs import JobRun, register_job_kind


@register_job_kind(JUDGE_RUN_JOB, label="Run a judge")
def judge_run(run: JobRun) -> None:
    """Judge every (persona, pair) item in both orders; items already judged are skipped."""
    judge = Judge.objects.select_related("endpoint").get(pk=run.params["judge_id"])
    items = [(int(persona_id), int(pair_id)) for persona_id, pair_id in run.params["items"]]
    judgments_run(judge=judge, items=items, run=run)


@register_job_kind(BENCH_RUN_JOB, label="PERSONA Bench run")
def bench_run(run: JobRun) -> None:
    """Answer, critique and analyse every key of the run (or its leave-one-out stages); stored keys are skipped."""
    bench = BenchRun.objects.get(pk=run.params["run_id"])
    if bench.evaluation == Evaluation.LEAVE_ONE_OUT:
        from benchmarks.bench.loo import loo_run_execute

        loo_run_execute(run=bench, job=run)
    else:
        bench_run_execute(run=bench, job=run)
