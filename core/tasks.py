from __future__ import annotations

from celery import shared_task

from core.jobs import RUN_JOB_TASK, job_execute, jobs_resend_unclaimed, jobs_sweep_stalled


@shared_task(name=RUN_JOB_TASK, acks_late=True, ignore_result=True)
def run_job(job_id: int) -> None:
    job_execute(job_id=job_id)


@shared_task(name="core.sweep_stalled_jobs", ignore_result=True)
def sweep_stalled_jobs() -> int:
    """Beat's sweep: resume running jobs whose worker died, and send again queued jobs no worker has claimed."""
    return jobs_sweep_stalled() + jobs_resend_unclaimed()
