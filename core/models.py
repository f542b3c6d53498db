from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.job_registry import JobFact, job_kind_label, job_outcome

# The LLM layer's models live in core/llm/models.py; importing them here registers them with the app.
from core.llm.models import LLMCall, LLMResponse, ModelEndpoint


class UserCreatedModel(models.Model):
    """A record a user makes (a run, a dataset): who made it (null once the user is deleted) and when; newest first.

    Subclasses that declare a ``Meta`` extend ``UserCreatedModel.Meta`` to keep the ordering.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    # Ran to the end, but some items failed (and some were done): a re-run asks the failed items again.
    PARTIAL = "partial", "Finished with failures"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
RERUNNABLE_JOB_STATUSES = (JobStatus.FAILED, JobStatus.PARTIAL, JobStatus.CANCELLED)


class JobQuerySet(models.QuerySet["Job"]):
    def active(self) -> JobQuerySet:
        return self.filter(status__in=ACTIVE_JOB_STATUSES)

    def listed(self) -> JobQuerySet:
        """The jobs a user started: a shard shows as part of its parent, never as a row of its own."""
        return self.filter(parent__isnull=True)


class Job(models.Model):
    """One run of long work (an import, a generation, a judge run) with its progress, usage and outcome.

    A job is claimed by a worker with a conditional UPDATE (queued → running); work items are upserts with
    deterministic keys, so a re-run of a failed or cancelled job does only what is left.
    """

    kind = models.CharField(max_length=64, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    # Hash of kind + params: at most one active job per key, so a double click starts one job.
    dedupe_key = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the latest message for this job became due at a worker (a retry's countdown included). A queued job no
    # worker has claimed long after it is sent again: the message may have been lost (a broker restarted empty).
    sent_at = models.DateTimeField(default=timezone.now)
    resends = models.PositiveIntegerField(default=0)
    resent_at = models.DateTimeField(null=True, blank=True)
    # A shard: part of its parent's work, run by any free worker. Its progress and usage are also the parent's, the
    # parent ends when its shards have (``core.jobs``), and pages list the parent only.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="shards")

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=["queued", "running"]),
                name="core_job_one_active_per_dedupe_key",
            ),
            models.CheckConstraint(condition=Q(done__gte=0) & Q(failed__gte=0), name="core_job_counters_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.label} #{self.pk} ({self.status})"

    @property
    def label(self) -> str:
        return job_kind_label(self.kind)

    @staticmethod
    def status_from_counts(*, done: int, failed: int) -> JobStatus:
        """How a job whose handler ran to the end finished, by its item counts: never "succeeded" with failures.

        No failed item: succeeded. Some failed, none done: failed. Some of each: finished with failures.
        """
        if not failed:
            return JobStatus.SUCCEEDED
        return JobStatus.FAILED if not done else JobStatus.PARTIAL

    @property
    def has_failed_items(self) -> bool:
        """Finished (failed or partial) with items that failed: a re-run retries just those."""
        return self.failed > 0 and self.status in (JobStatus.FAILED, JobStatus.PARTIAL)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def can_rerun(self) -> bool:
        return self.status in RERUNNABLE_JOB_STATUSES

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def outcome(self) -> JobFact | None:
        """Where the results are (its kind's link), once the job has finished with some items done."""
        return job_outcome(self) if self.status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL) else None

    @property
    def percent(self) -> int:
        if self.total <= 0:
            return 100 if self.status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL) else 0
        return min(100, round(100 * self.processed / self.total))

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Statistic(models.Model):
    """A named count the home page shows, recomputed by the "recompute statistics" job."""

    key = models.CharField(max_length=128, unique=True)
    label = models.CharField(max_length=200)
    value = models.BigIntegerField()
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="statistics")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


__all__ = [
    "Job",
    "JobQuerySet",
    "JobStatus",
    "LLMCall",
    "LLMResponse",
    "ModelEndpoint",
    "Statistic",
    "UserCreatedModel",
]
