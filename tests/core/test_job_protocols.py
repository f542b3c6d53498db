"""The modules below the jobs name what they need of one as Protocols (no import upward, not even for type hints);
the real types must keep satisfying them."""

from __future__ import annotations

from core.job_registry import HandlerRun, StoredJob
from core.jobs import JobRun
from core.llm.types import JobProgress
from core.models import Job


def test_job_and_job_run_satisfy_the_protocols_below_them() -> None:
    job = Job(kind="tests.protocols", params={"n": 1})
    run = JobRun(job)
    assert isinstance(job, StoredJob)
    assert isinstance(run, HandlerRun)
    assert isinstance(run, JobProgress)
