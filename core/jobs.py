"""Background jobs: the kind registry and the services that start, claim, run, cancel and re-run jobs.

Flow: ``job_start`` writes a queued row and sends ``core.run_job`` once the transaction commits; the task calls
``job_execute``, which claims the row with a conditional UPDATE and runs the kind's handler with a ``JobRun``.
Handlers do their work as upserts keyed deterministically, so a re-run (``job_rerun``) does only what is left.

A handler may spread its work over shards: jobs started with ``parent=`` (all in one transaction), which any free
worker claims like any job, resumed by the same sweep. A shard's progress and usage count for its parent too; the
parent stays running after its handler returns until its last shard ends, which ends the parent (``_settle_parent``):
by its counts, or failed when a shard failed. Cancelling the parent cancels its shards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from core.broker import BROKER_ERRORS
from core.job_registry import JobFact, JobKind, job_facts, job_kind_get, job_kind_label, job_kinds, register_job_kind
from core.models import ACTIVE_JOB_STATUSES, RERUNNABLE_JOB_STATUSES, Job, JobStatus

# Handlers import ``JobRun`` and ``register_job_kind`` from here; the registry itself is ``core.job_registry``.
__all__ = [
    "JobCancelled",
    "JobError",
    "JobFact",
    "JobKind",
    "JobRun",
    "job_cancel",
    "job_claim",
    "job_execute",
    "job_facts",
    "job_kind_label",
    "job_kinds",
    "job_rerun",
    "job_shard_counts",
    "job_start",
    "jobs_resend_unclaimed",
    "jobs_sweep_stalled",
    "register_job_kind",
]

logger = logging.getLogger(__name__)

# Claims per job, counting transient retries and automatic resumes after a worker died; a re-run adds one more.
MAX_ATTEMPTS = 5
MAX_TRANSIENT_ATTEMPTS = MAX_ATTEMPTS
RUN_JOB_TASK = "core.run_job"
RESUMED_NOTE = "Resumed automatically after a worker stopped reporting; finished items were kept."


def lease_seconds() -> float:
    """How long a running job's heartbeat may be silent before its worker counts as dead (``JOB_STALL_SECONDS``)."""
    return float(settings.JOB_STALL_SECONDS)


def resend_after_seconds() -> float:
    """How long a queued job may wait unclaimed before its message is sent again (``JOB_RESEND_AFTER_SECONDS``)."""
    return float(settings.JOB_RESEND_AFTER_SECONDS)


# Each further re-send of a job still unclaimed waits twice as long as the one before, up to this many thresholds:
# a job that is only waiting behind a long queue gets a few duplicate messages (each one a no-op), not one a sweep.
RESEND_BACKOFF_CAP = 4


def heartbeat_seconds() -> float:
    """How often a running job's worker renews its lease, with room for two missed beats."""
    return max(0.2, lease_seconds() / 4)


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
        # The claim this run holds: once another worker takes the job over (attempts moves on), every write of
        # this run is refused, so a worker that was only slow, not dead, stops instead of racing the new one.
        self.attempt = job.attempts
        self._note_before_waiting: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def _update_running(self, **fields: Any) -> None:
        updated = Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING, attempts=self.attempt).update(
            heartbeat_at=timezone.now(), **fields
        )
        if not updated:
            raise JobCancelled(f"job {self.job.pk} is no longer running")

    def _update_parent(self, **fields: Any) -> None:
        """A shard's progress, usage and waiting note are its parent's too: the one row a user watches."""
        if self.job.parent_id is not None:
            Job.objects.filter(pk=self.job.parent_id, status=JobStatus.RUNNING).update(
                heartbeat_at=timezone.now(), **fields
            )

    def set_total(self, total: int, *, already_done: int | None = None) -> None:
        """Set the item count; on a re-run, ``already_done`` resets ``done`` to what is really stored."""
        fields: dict[str, Any] = {"total": total}
        if already_done is not None:
            fields.update(done=already_done, failed=0)
        self._update_running(**fields)
        self.job.total = total

    def advance(self, *, done: int = 1, failed: int = 0) -> None:
        self._update_running(done=F("done") + done, failed=F("failed") + failed)
        self._update_parent(done=F("done") + done, failed=F("failed") + failed)

    def add_usage(self, *, input_tokens: int = 0, output_tokens: int = 0, cost_usd: Decimal = Decimal(0)) -> None:
        usage = {
            "input_tokens": F("input_tokens") + input_tokens,
            "output_tokens": F("output_tokens") + output_tokens,
            "cost_usd": F("cost_usd") + cost_usd,
        }
        self._update_running(**usage)
        self._update_parent(**usage)

    def check_running(self) -> None:
        self._update_running()

    def note_waiting(self, note: str) -> None:
        """Show what the job waits for (an endpoint that does not answer) as its note; "" puts back the note it had."""
        if note and self._note_before_waiting is None:
            self._note_before_waiting = self.job.error
        self._update_running(error=note or self._note_before_waiting or "")
        self._update_parent(error=note)
        if not note:
            self._note_before_waiting = None


def _dedupe_key(kind: str, params: dict[str, Any]) -> str:
    payload = json.dumps({"kind": kind, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _dispatch(job_id: int, *, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: _send(job_id, countdown=countdown))


def _send(job_id: int, *, countdown: float | None = None) -> None:
    """Send the job's message to a worker. A broker that cannot be reached (Redis down) is no error for the caller:
    the row stays queued, and the sweep sends it again once the broker is back (core/broker.py)."""
    try:
        # By name, through ``current_app`` (the project's Celery app, in every thread: tests/core/test_celery_app.py):
        # core never imports config.
        current_app.send_task(RUN_JOB_TASK, args=[job_id], countdown=countdown)
    except BROKER_ERRORS as exc:
        logger.warning("job %s stays queued: the job queue is unreachable (%s)", job_id, exc)


def _resend(job: Job, *, now: datetime) -> bool:
    """Send a queued job's message again, once however many callers try: a conditional UPDATE on the last send.

    A duplicate message is harmless (the claim is a conditional UPDATE too); a lost one would leave the job queued
    for ever, since starting the same work again returns this job.
    """
    with transaction.atomic():
        resent = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED, sent_at=job.sent_at).update(
            sent_at=now, resent_at=now, resends=F("resends") + 1
        )
        if resent:
            logger.warning(
                "job %s: no worker claimed it for %.0f s; sent again", job.pk, (now - job.sent_at).total_seconds()
            )
            _dispatch(job.pk)
    return bool(resent)


def job_start(
    *,
    kind: str,
    started_by: Any = None,
    params: dict[str, Any] | None = None,
    total: int = 0,
    dedupe: dict[str, Any] | None = None,
    parent: Job | None = None,
) -> Job:
    """Create a queued job and send it to a worker when the transaction commits.

    Starting a job identical (same kind and parameters) to one still queued or running returns that job
    instead of a second one, so a double click or a replayed form starts the work once. ``dedupe`` names the
    work when some parameters do not (where an upload was stored, say); by default it is ``params``. With
    ``parent``, the job is one of its shards (module docstring); start a parent's shards in one transaction, so none
    can end the parent before the others exist.
    """
    if job_kind_get(kind) is None:
        raise JobError(f"Unknown job kind {kind!r}.")
    params = params or {}
    key = _dedupe_key(kind, params if dedupe is None else dedupe)
    existing = Job.objects.filter(dedupe_key=key, status__in=ACTIVE_JOB_STATUSES).first()
    if existing is not None:
        # Asking again for work that no worker has picked up in a long while: its message may be lost.
        now = timezone.now()
        if existing.status == JobStatus.QUEUED and existing.sent_at < now - timedelta(seconds=resend_after_seconds()):
            _resend(existing, now=now)
            existing.refresh_from_db()
        return existing
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                params=params,
                dedupe_key=key,
                total=total,
                started_by=started_by if getattr(started_by, "is_authenticated", False) else None,
                parent=parent,
            )
    except IntegrityError:
        # A concurrent request created the same job between our check and our insert.
        return Job.objects.get(dedupe_key=key, status__in=ACTIVE_JOB_STATUSES)
    _dispatch(job.pk)
    return job


def job_claim(*, job_id: int) -> bool:
    """Move a queued job to running, or take over a running one whose lease ran out (its worker died).

    Exactly one caller wins, however many workers receive the message: both are one conditional UPDATE. A take-over
    is bounded by ``MAX_ATTEMPTS``; the handler resumes, skipping the items already stored.
    """
    now = timezone.now()
    claimed = {"status": JobStatus.RUNNING, "started_at": now, "heartbeat_at": now, "finished_at": None}
    if Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(**claimed, error="", attempts=F("attempts") + 1):
        return True
    stale = now - timedelta(seconds=lease_seconds())
    return bool(
        _not_waiting(
            Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, heartbeat_at__lt=stale, attempts__lt=MAX_ATTEMPTS)
        ).update(**claimed, error=RESUMED_NOTE, attempts=F("attempts") + 1)
    )


def _not_waiting(jobs: Any) -> Any:
    """Leave out parents waiting for their shards: a silent heartbeat there is no dead worker, the shards work."""
    return jobs.exclude(Exists(Job.objects.filter(parent=OuterRef("pk"), status__in=ACTIVE_JOB_STATUSES)))


class _Heartbeat(threading.Thread):
    """Renews the lease of the claim ``attempt`` every ``heartbeat_seconds()`` while the handler runs, so a long
    step (a slow model call, a big batch) is not mistaken for a dead worker. It dies with its process, which is
    the point: a killed worker stops renewing and another worker takes the job over."""

    def __init__(self, job_id: int, attempt: int) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.attempt = job_id, attempt
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(heartbeat_seconds()):
                Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING, attempts=self.attempt).update(
                    heartbeat_at=timezone.now()
                )
                # Between beats the thread holds no connection: on PostgreSQL this hands it back to the process's
                # pool, so a running job costs the connection budget one connection, not two.
                connection.close()
        except Exception:  # a lost database connection: the handler's own writes will say so
            logger.warning("job %s: heartbeat stopped", self.job_id, exc_info=True)
        finally:
            connection.close()


def _defer_while_owned(job_id: int) -> None:
    """A second delivery of a running job's task (Celery redelivers when a pool child dies): if the lease is still
    fresh the owner may be alive, so look again once it would have run out."""
    job = _not_waiting(Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts__lt=MAX_ATTEMPTS)).first()
    if job is None or job.heartbeat_at is None:
        return
    remaining = lease_seconds() - (timezone.now() - job.heartbeat_at).total_seconds()
    logger.info("job %s is running elsewhere; checking its lease again in %.0f s", job_id, max(remaining, 0) + 1)
    with transaction.atomic():
        _dispatch(job_id, countdown=max(remaining, 0) + 1)


def _finish(job_id: int, status: JobStatus, error: str | None = None, *, attempt: int | None = None) -> bool:
    """End a running job; with ``attempt``, only if that claim still holds it (not taken over meanwhile)."""
    jobs = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING)
    if attempt is not None:
        jobs = jobs.filter(attempts=attempt)
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
    if error is not None:  # a success keeps the note a take-over left
        fields["error"] = error[:10_000]
    return bool(jobs.update(**fields))


def job_execute(*, job_id: int) -> None:
    """Claim the job and run its handler; whatever happens, the job does not stay `running`."""
    if not job_claim(job_id=job_id):
        logger.info("job %s not claimed (running elsewhere, cancelled or finished)", job_id)
        _defer_while_owned(job_id)
        return
    job = Job.objects.get(pk=job_id)
    kind = job_kind_get(job.kind)
    if kind is None:
        _finish(job_id, JobStatus.FAILED, f"No handler is registered for job kind {job.kind!r}.")
        return
    heartbeat = _Heartbeat(job_id, job.attempts)
    heartbeat.start()
    try:
        _run_handler(kind, job)
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
    if job.parent_id is not None:
        _settle_parent(job.parent_id)


def _run_handler(kind: JobKind, job: Job) -> None:
    job_id = job.pk
    try:
        kind.handler(JobRun(job))
    except JobCancelled:
        logger.info("job %s stopped: %s", job_id, Job.objects.get(pk=job_id).status)
        return
    except JobError as exc:  # the handler's own refusal, worded for the user
        _finish(job_id, JobStatus.FAILED, str(exc), attempt=job.attempts)
        return
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        if getattr(exc, "transient", False) and job.attempts < MAX_ATTEMPTS:
            logger.warning("job %s hit a transient error, will retry: %s", job_id, message)
            with transaction.atomic():
                countdown = min(300, settings.JOB_RETRY_BASE_SECONDS * 2**job.attempts)
                if Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=job.attempts).update(
                    status=JobStatus.QUEUED,
                    error=f"Retrying after: {message}",
                    sent_at=timezone.now() + timedelta(seconds=countdown),
                ):
                    _dispatch(job_id, countdown=countdown)
            return
        logger.exception("job %s failed", job_id)
        _finish(job_id, JobStatus.FAILED, message, attempt=job.attempts)
        return
    if _run_shards(Job.objects.get(pk=job_id)).exists():
        _settle_parent(job_id)  # ends now if its shards already have; else the last shard to end does
    else:
        _finish_by_counts(job_id, attempt=job.attempts)


def _run_shards(parent: Job) -> Any:
    """The shards the parent's latest run started (a re-run starts new ones for what is left)."""
    shards = Job.objects.filter(parent=parent)
    return shards.filter(created_at__gte=parent.started_at) if parent.started_at else shards


def job_shard_counts(*, job: Job) -> list[tuple[str, int]]:
    """How many of the job's latest-run shards are in each status, for its page (empty when it has none)."""
    counts = dict(_run_shards(job).values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return [(label, counts[status]) for status, label in JobStatus.choices if counts.get(status)]


def _settle_parent(parent_id: int) -> bool:
    """End a running parent once none of its shards is queued or running: failed, naming them, when a shard failed
    or was cancelled (its items were not all settled), else by the summed counts. Any caller may try; one wins."""
    parent = Job.objects.filter(pk=parent_id, status=JobStatus.RUNNING).first()
    if parent is None:
        return False
    shards = _run_shards(parent)
    if not shards.exists() or shards.filter(status__in=ACTIVE_JOB_STATUSES).exists():
        return False
    broken = list(shards.filter(status__in=[JobStatus.FAILED, JobStatus.CANCELLED]).order_by("pk"))
    if not broken:
        return _finish_by_counts(parent_id, attempt=None)
    lines = [
        f"Shard #{shard.pk} {shard.get_status_display().lower()}: {shard.error or 'no reason given'}"
        for shard in broken
    ]
    summary = f"{len(broken)} of {shards.count()} shards did not finish. Re-run the job to do what is left."
    return _finish(parent_id, JobStatus.FAILED, "\n".join([summary, *lines]))


def _finish_by_counts(job_id: int, *, attempt: int | None) -> bool:
    """End a job whose handler returned: its outcome follows from its item counts (``Job.status_from_counts``)."""
    counts = Job.objects.filter(pk=job_id).values("done", "failed", "error").first()
    if counts is None:
        return False
    status = Job.status_from_counts(done=counts["done"], failed=counts["failed"])
    if status == JobStatus.SUCCEEDED:
        return _finish(job_id, status, attempt=attempt)
    processed = counts["done"] + counts["failed"]
    summary = (
        f"{counts['failed']} of {processed} items failed; their reasons are listed on the job's page. "
        "Retry the failed items to ask only those again (what is stored is kept)."
    )
    note = counts["error"] if counts["error"] == RESUMED_NOTE else ""
    return _finish(job_id, status, f"{summary}\n{note}".strip(), attempt=attempt)


def job_cancel(*, job: Job) -> bool:
    """Stop a queued or running job and its shards; the handlers notice at their next progress report."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = Job.objects.filter(pk=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.CANCELLED, finished_at=now
        )
        Job.objects.filter(parent=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.CANCELLED, finished_at=now
        )
    if cancelled and job.parent_id is not None:
        _settle_parent(job.parent_id)
    return bool(cancelled)


def job_rerun(*, job: Job) -> Job:
    """Queue a failed, partly failed or cancelled job again; its handler skips the items already done, so a job
    that finished with failures asks only its failed items again."""
    if job.status not in RERUNNABLE_JOB_STATUSES:
        raise JobError(
            "Only jobs that failed, finished with failures or were cancelled can be re-run; "
            f"this one is {job.get_status_display().lower()}."
        )
    try:
        with transaction.atomic():
            updated = Job.objects.filter(pk=job.pk, status__in=RERUNNABLE_JOB_STATUSES).update(
                status=JobStatus.QUEUED, finished_at=None, sent_at=timezone.now()
            )
            if updated:
                _dispatch(job.pk)
    except IntegrityError:
        raise JobError("An identical job is already queued or running.") from None
    job.refresh_from_db()
    return job


def jobs_sweep_stalled(*, stall_after: timedelta | None = None) -> int:
    """Running jobs whose lease ran out (their worker died and no redelivery took them over): queue them again to
    resume automatically while ``MAX_ATTEMPTS`` allows, else mark them failed and resumable by a re-run."""
    stall_after = stall_after or timedelta(seconds=lease_seconds())
    now = timezone.now()
    stalled = _not_waiting(Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - stall_after))
    # A parent whose shards all ended but whose last shard's worker died before ending it: end it now.
    for parent_id in stalled.filter(Exists(Job.objects.filter(parent=OuterRef("pk")))).values_list("pk", flat=True):
        _settle_parent(parent_id)
    resumed = 0
    for job_id in stalled.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True):
        with transaction.atomic():
            if stalled.filter(pk=job_id, attempts__lt=MAX_ATTEMPTS).update(
                status=JobStatus.QUEUED, error=RESUMED_NOTE, sent_at=now
            ):
                _dispatch(job_id)
                resumed += 1
    given_up = list(stalled.values_list("pk", "parent_id"))
    failed = stalled.filter(pk__in=[pk for pk, _ in given_up]).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error=f"The worker stopped reporting for over {int(stall_after.total_seconds())} s, {MAX_ATTEMPTS} times "
        "(it probably died). Re-run the job to resume; finished items are kept.",
    )
    for parent_id in {parent_id for _, parent_id in given_up if parent_id is not None}:
        _settle_parent(parent_id)
    return resumed + failed


def jobs_resend_unclaimed(*, resend_after: timedelta | None = None) -> int:
    """Queued jobs that no worker has claimed ``resend_after`` (``JOB_RESEND_AFTER_SECONDS``) after their message was
    due: send the message again, since it may have been lost (Redis restarted without persistence, say). Each
    further re-send of the same job waits twice as long, up to ``RESEND_BACKOFF_CAP`` times the threshold."""
    resend_after = resend_after or timedelta(seconds=resend_after_seconds())
    now = timezone.now()
    resent = 0
    for job in Job.objects.filter(status=JobStatus.QUEUED, sent_at__lt=now - resend_after).only(
        "pk", "sent_at", "resends"
    ):
        if now - job.sent_at >= resend_after * min(2**job.resends, RESEND_BACKOFF_CAP) and _resend(job, now=now):
            resent += 1
    return resent
