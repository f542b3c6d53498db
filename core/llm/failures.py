"""What went wrong in a job's LLM calls, for its page: the endpoints it talked to and its failures by reason.

Every call a job makes is logged as an ``LLMCall`` with the job, the endpoint and, for a call that failed or whose
reply could not be read, ``valid=False`` and the error. These selectors read that log; nothing else records them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from core.llm.models import LLMCall, ModelEndpoint
from core.models import Job

# Reasons are grouped by their first line, cut here: the rest of a message often names the item.
REASON_CHARS = 300
MAX_REASONS = 20


@dataclass(frozen=True)
class FailureReason:
    reason: str
    count: int
    example: str  # one item that failed so (its request key), and its full message
    example_error: str


def _job_calls(job: Job) -> QuerySet[LLMCall]:
    # A job spread over shards made its calls through them.
    calls = LLMCall.objects.filter(Q(job=job) | Q(job__parent=job))
    # The counts on a job are those of its latest run (a re-run resets them), so are its reasons.
    return calls.filter(created_at__gte=job.started_at) if job.started_at else calls


def job_llm_endpoints(*, job: Job) -> list[ModelEndpoint]:
    """The endpoints a job's latest run called, by name."""
    ids = _job_calls(job).values_list("endpoint_id", flat=True).distinct()
    return list(ModelEndpoint.objects.filter(pk__in=ids).order_by("name"))


def failure_reason(error: str) -> str:
    """The reason an error is grouped under: its first non-empty line, cut to ``REASON_CHARS``."""
    line = next((line.strip() for line in error.splitlines() if line.strip()), "")
    return (line or "no reason given")[:REASON_CHARS]


def job_llm_failures(*, job: Job) -> list[FailureReason]:
    """The job's failed calls grouped by reason, most frequent first: a count and one example each."""
    rows = (
        _job_calls(job)
        .filter(valid=False)
        .values("error")
        .annotate(n=Count("pk"), example=Max("request_key"))
        .order_by("-n")
    )
    groups: dict[str, FailureReason] = {}
    for row in rows.iterator():
        reason = failure_reason(row["error"])
        seen = groups.get(reason)
        if seen is None:
            groups[reason] = FailureReason(reason, row["n"], row["example"] or "", row["error"])
        else:
            groups[reason] = FailureReason(reason, seen.count + row["n"], seen.example, seen.example_error)
    return sorted(groups.values(), key=lambda g: -g.count)[:MAX_REASONS]
