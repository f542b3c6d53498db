"""Benchmark jobs: running a judge."""

from __future__ import annotations

from benchmarks.judging.models import Judge
from benchmarks.judging.services import JUDGE_RUN_JOB, judgments_run
from core.jobs import JobRun, register_job_kind


@register_job_kind(JUDGE_RUN_JOB, label="Run a judge")
def judge_run(run: JobRun) -> None:
    """Judge every (persona, pair) item in both orders; items already judged are skipped."""
    judge = Judge.objects.select_related("endpoint").get(pk=run.params["judge_id"])
    items = [(int(persona_id), int(pair_id)) for persona_id, pair_id in run.params["items"]]
    judgments_run(judge=judge, items=items, run=run)
