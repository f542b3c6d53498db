"""The job kind the fault suite queues: a few seconds of work that writes down each time it starts and ends.

Loaded by the suite's Celery worker (``--include``) and by the shell that starts the jobs, never by the app. The
journal is a file (``FAULTS_JOURNAL``), not the database or Redis the suite breaks: one appended line per event.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from core.job_registry import register_job_kind

if TYPE_CHECKING:
    from core.jobs import JobRun

SLEEP_JOB = "faults.sleep"


def _journal(event: str, job_id: int) -> None:
    with open(os.environ["FAULTS_JOURNAL"], "a") as journal:
        journal.write(f"{event} {job_id} {os.getpid()}\n")


@register_job_kind(SLEEP_JOB, label="Fault suite: sleep")
def sleep_run(job: JobRun) -> None:
    _journal("start", job.job.pk)
    steps = int(job.params.get("steps", 4))
    job.set_total(steps)
    for _ in range(steps):
        time.sleep(float(job.params.get("step_seconds", 0.5)))
        job.advance()
    _journal("done", job.job.pk)
