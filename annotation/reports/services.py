"""The study report's lifecycle: fingerprint the inputs, compute as a job, store a snapshot, serve it while fresh.

A snapshot (``annotation.ReportSnapshot``, scope ``"study:<id>"``) is fresh while the fingerprint of the study's
inputs is unchanged: every participant's status and review, every answer's choice, the judgments on the study's
items (count, newest change, highest id), the judges' names and the report code version. Any change makes the page
show the previous snapshot marked stale and queue a recompute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max

from annotation.models import Answer, Participant, Study
from annotation.reports.models import ReportSnapshot
from annotation.reports.ratings import study_ratings
from annotation.reports.study_report import REPORT_VERSION, report_compute
from annotation.selectors import study_items
from benchmarks.judging.models import Judge, Judgment
from core.jobs import JobRun, job_start
from core.models import Job

REPORT_JOB = "annotation.study_report"


@dataclass(frozen=True)
class ReportState:
    study: Study
    fingerprint: str
    snapshot: ReportSnapshot | None
    job: Job | None = None

    @property
    def fresh(self) -> bool:
        return self.snapshot is not None and self.snapshot.fingerprint == self.fingerprint

    @property
    def data(self) -> dict[str, Any] | None:
        return self.snapshot.data if self.snapshot is not None else None


def report_scope(study_id: int) -> str:
    return f"study:{study_id}"


def study_has_completed_participants(*, study: Study) -> bool:
    return Participant.objects.filter(study=study).counted().exists()


def report_fingerprint(*, study: Study) -> str:
    """A hash of everything the report reads (see the module docstring); cheap next to computing the report."""
    digest = hashlib.sha256(f"v{REPORT_VERSION}:threshold={study.majority_threshold}".encode())
    participants = Participant.objects.filter(study=study).order_by("pk")
    for row in participants.values_list("pk", "status", "review", "is_preview", "study_persona_id"):
        digest.update(repr(row).encode())
    answers = Answer.objects.filter(participant__study=study).order_by("pk")
    for row in answers.values_list("pk", "question_id", "choice").iterator(chunk_size=5000):
        digest.update(repr(row).encode())
    items = study_items(study=study)
    judgments = Judgment.objects.filter(
        persona_id__in={item.persona_id for item in items}, pair_id__in={item.pair_id for item in items}
    ).aggregate(count=Count("pk"), newest=Max("updated_at"), last=Max("pk"))
    digest.update(repr(sorted(judgments.items())).encode())
    digest.update(repr(list(Judge.objects.order_by("pk").values_list("pk", "name"))).encode())
    digest.update(repr([(i.question_id, i.persona_id, i.pair_id) for i in items]).encode())
    return digest.hexdigest()


def report_refresh(*, study: Study, job: Job | None = None) -> ReportSnapshot:
    """Compute the report now and store it. The fingerprint is taken first: a change made while computing leaves
    the stored snapshot stale, so it is computed again."""
    fingerprint = report_fingerprint(study=study)
    data = report_compute(ratings=study_ratings(study=study), fingerprint=fingerprint)
    snapshot, _ = ReportSnapshot.objects.update_or_create(
        scope=report_scope(study.pk), defaults={"fingerprint": fingerprint, "data": data, "job": job}
    )
    return snapshot


def report_state(*, study: Study) -> ReportState:
    return ReportState(
        study=study,
        fingerprint=report_fingerprint(study=study),
        snapshot=ReportSnapshot.objects.filter(scope=report_scope(study.pk)).first(),
    )


def report_ensure(*, study: Study, started_by: Any = None) -> ReportState:
    """The current state; when the snapshot is missing or stale, a recompute job is queued (once per inputs)."""
    state = report_state(study=study)
    if state.fresh:
        return state
    job = job_start(
        kind=REPORT_JOB, started_by=started_by, params={"study_id": study.pk, "fingerprint": state.fingerprint}
    )
    return ReportState(study, state.fingerprint, state.snapshot, job)


def report_job_run(run: JobRun) -> None:
    """Job handler: compute and store one study's report (idempotent: a fresh snapshot is left alone)."""
    study = Study.objects.get(pk=run.params["study_id"])
    run.set_total(1, already_done=0)
    if not report_state(study=study).fresh:
        report_refresh(study=study, job=run.job)
    run.advance()
