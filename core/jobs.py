"""Background jobs: the kind registry and the services that start, claim, run, cancel and re-run jobs.

Flow: ``job_start`` writes a queued row and sends ``core.run_job`` once the transaction commits; the task calls
``job_execute``, which claims the row with a conditional UPDATE and runs the kind's handler with a ``JobRun``.
Handlers do their work as upserts keyed deterministically, so a re-run (``job_rerun``) does only what is left.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.celery import app
from core.job_registry import JobKind, job_kind_get, job_kind_label, job_kinds, register_job_kind
from core.models import ACTIVE_JOB_STATUSES, RERUNNABLE_JOB_STATUSES, Job, JobStatus

# Handlers import ``JobRun`` and ``register_job_kind`` from here; the registry itself is ``core.job_registry``.
__all__ = [
    "JobCancelled",
    "JobError",
    "JobKind",
    "JobRun",
    "job_cancel",
    "job_claim",
    "job_execute",
    "job_kind_label",
    "job_kinds",
    "job_rerun",
    "job_start",
    "jobs_sweep_stalled",
    "register_job_kind",
]

logger = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 5
RUN_JOB_TASK = "core.run_job"


class JobError(Exception):
    """A job request that cannot be carried out; the message is fit to show the user."""


class JobCancelled(Exception):
    """Raised inside a handler when the job stopped running (cancelled, or swept as stalled)."""


class JobRun:
    """What a handler sees: the job's parameters and the calls that report progress and usage.

    Every write is conditional on the job still running, so a cancelled or swept job is never revived by a
    late progress report; ``advance`` raises ``JobCancelled`` when the job has been stopped.
    """

    def __init__(self, job: Job) -> None:
        self.job = job

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def _update_running(self, **fields: Any) -> None:
        updated = Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            heartbeat_at=timezone.now(), **fields
        )
        if not updated:
            raise JobCancelled(f"job {self.job.pk} is no longer running")

    def set_total(self, total: int, *, already_done: int | None = None) -> None:
        """Set the item count; on a re-run, ``already_done`` resets ``done`` to what is really stored."""
        fields: dict[str, Any] = {"total": total}
        if already_done is not None:
            fields.update(done=already_done, failed=0)
        self._update_running(**fields)
        self.job.total = total

    def advance(self, *, done: int = 1, failed: int = 0) -> None:
        self._update_running(done=F("done") + done, failed=F("failed") + failed)

    def add_usage(self, *, input_tokens: int = 0, output_tokens: int = 0, cost_usd: Decimal = Decimal(0)) -> None:
        self._update_running(
            input_tokens=F("input_tokens") + input_tokens,
            output_tokens=F("output_tokens") + output_tokens,
            cost_usd=F("cost_usd") + cost_usd,
        )

    def check_running(self) -> None:
        self._update_running()


def _dedupe_key(kind: str, params: dict[str, Any]) -> str:
    payload = json.dumps({"kind": kind, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _dispatch(job_id: int, *, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: app.send_task(RUN_JOB_TASK, args=[job_id], countdown=countdown))


def job_start(*, kind: str, started_by: Any = None, params: dict[str, Any] | None = None, total: int = 0) -> Job:
    """Create a queued job and send it to a worker when the transaction commits.

    Starting a job identical (same kind and parameters) to one still queued or running returns that job
    instead of a second one, so a double click or a replayed form starts the work once.
    """
    if job_kind_get(kind) is None:
        raise JobError(f"Unknown job kind {kind!r}.")
    params = params or {}
    key = _dedupe_key(kind, params)
    existing = Job.objects.filter(dedupe_key=key, status__in=ACTIVE_JOB_STATUSES).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                params=params,
                dedupe_key=key,
                total=total,
                started_by=started_by if getattr(started_by, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # A concurrent request created the same job between our check and our insert.
        return Job.objects.get(dedupe_key=key, status__in=ACTIVE_JOB_STATUSES)
    _dispatch(job.pk)
    return job


def job_claim(*, job_id: int) -> bool:
    """Move a queued job to running; exactly one caller wins, however many workers receive the message."""
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            error="",
            attempts=F("attempts") + 1,
        )
    )


def _finish(job_id: int, status: JobStatus, error: str = "") -> bool:
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=status, error=error[:10_000], finished_at=timezone.now()
        )
    )


def job_execute(*, job_id: int) -> None:
    """Claim the job and run its handler; whatever happens, the job does not stay `running`."""
    if not job_claim(job_id=job_id):
        logger.info("job %s not claimed (already taken, cancelled or finished)", job_id)
        return
    job = Job.objects.get(pk=job_id)
    kind = job_kind_get(job.kind)
    if kind is None:
        _finish(job_id, JobStatus.FAILED, f"No handler is registered for job kind {job.kind!r}.")
        return
    try:
        kind.handler(JobRun(job))
    except JobCancelled:
        logger.info("job %s stopped: %s", job_id, Job.objects.get(pk=job_id).status)
        return
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        if getattr(exc, "transient", False) and job.attempts < MAX_TRANSIENT_ATTEMPTS:
            logger.warning("job %s hit a transient error, will retry: %s", job_id, message)
            with transaction.atomic():
                if Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                    status=JobStatus.QUEUED, error=f"Retrying after: {message}"
                ):
                    _dispatch(job_id, countdown=min(300, settings.JOB_RETRY_BASE_SECONDS * 2**job.attempts))
            return
        logger.exception("job %s failed", job_id)
        _finish(job_id, JobStatus.FAILED, message)
        return
    _finish(job_id, JobStatus.SUCCEEDED)


def job_cancel(*, job: Job) -> bool:
    """Stop a queued or running job; the handler notices at its next progress report."""
    return bool(
        Job.objects.filter(pk=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now()
        )
    )


def job_rerun(*, job: Job) -> Job:
    """Queue a failed or cancelled job again; its handler skips the items already done."""
    if job.status not in RERUNNABLE_JOB_STATUSES:
        raise JobError(f"Only failed or cancelled jobs can be re-run; this one is {job.get_status_display().lower()}.")
    try:
        with transaction.atomic():
            updated = Job.objects.filter(pk=job.pk, status__in=RERUNNABLE_JOB_STATUSES).update(
                status=JobStatus.QUEUED, finished_at=None
            )
            if updated:
                _dispatch(job.pk)
    except IntegrityError:
        raise JobError("An identical job is already queued or running.") from None
    job.refresh_from_db()
    return job


def jobs_sweep_stalled(*, stall_after: timedelta | None = None) -> int:
    """Mark running jobs whose worker stopped reporting as failed and resumable (a re-run continues them)."""
    stall_after = stall_after or timedelta(seconds=settings.JOB_STALL_SECONDS)
    cutoff = timezone.now() - stall_after
    return Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=f"The worker stopped reporting for over {int(stall_after.total_seconds())} s (it probably died). "
        "Re-run the job to resume; finished items are kept.",
    )
