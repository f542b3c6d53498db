"""Benchmark jobs: running a judge, importing preference pairs."""

from __future__ import annotations

from benchmarks.judging.models import Judge
from benchmarks.judging.services import JUDGE_RUN_JOB, judgments_run
from benchmarks.pair_import import PAIRS_IMPORT_JOB, pairs_import_run
from core.jobs import JobRun, register_job_kind


@register_job_kind(JUDGE_RUN_JOB, label="Run a judge")
def judge_run(run: JobRun) -> None:
    """Judge every (persona, pair) item in both orders; items already judged are skipped."""
    judge = Judge.objects.select_related("endpoint").get(pk=run.params["judge_id"])
    items = [(int(persona_id), int(pair_id)) for persona_id, pair_id in run.params["items"]]
    judgments_run(judge=judge, items=items, run=run)


@register_job_kind(PAIRS_IMPORT_JOB, label="Import preference pairs")
def pairs_import_job(run: JobRun) -> None:
    pairs_import_run(run)
