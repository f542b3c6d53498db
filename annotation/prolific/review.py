"""Review on Prolific: bulk approve the raters who passed our checks, reject one with Prolific's category and a
message. Each decision is claimed with a conditional UPDATE before it is sent, so a double click or a replay never
sends it twice; a refusal gives the claim back."""

from __future__ import annotations

from django.utils import timezone

from annotation.models import Participant, Study
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from annotation.prolific.common import ProlificServiceError
from annotation.prolific.models import REJECTION_CATEGORIES, REJECTION_MESSAGE_MIN_CHARS, ProlificSubmission
from annotation.prolific.submissions import submission_status_apply
from annotation.prolific.sync import study_sync

APPROVE_CHUNK = 1000


def approvable(*, study: Study) -> list[ProlificSubmission]:
    """AWAITING REVIEW submissions, not yet sent for approval, whose rater submitted here and passed our checks."""
    passed = set(
        Participant.objects.filter(
            study=study, status=Participant.Status.SUBMITTED, is_preview=False, failed_attention_check=False
        )
        .exclude(review=Participant.Review.EXCLUDED)
        .values_list("prolific_pid", flat=True)
    )
    rows = ProlificSubmission.objects.filter(
        wave__study=study, status="AWAITING REVIEW", approve_sent_at__isnull=True
    ).order_by("id")
    return [row for row in rows if row.participant_id in passed]


def submissions_approve(*, study: Study) -> int:
    """Bulk approve everyone ``approvable`` returns. Each submission is claimed before the call, so nobody is sent
    twice; a refusal gives the claim back. Returns how many were sent."""
    sent = 0
    candidates = [row.pk for row in approvable(study=study)]
    for start in range(0, len(candidates), APPROVE_CHUNK):
        stamp = timezone.now()
        chunk = candidates[start : start + APPROVE_CHUNK]
        ProlificSubmission.objects.filter(pk__in=chunk, approve_sent_at__isnull=True, status="AWAITING REVIEW").update(
            approve_sent_at=stamp
        )
        claimed = ProlificSubmission.objects.filter(pk__in=chunk, approve_sent_at=stamp)
        ids = list(claimed.values_list("submission_id", flat=True))
        if not ids:
            continue
        try:
            client.submissions_bulk_approve(submission_ids=ids)
        except ProlificError as exc:
            if not exc.uncertain and not exc.transient:
                claimed.update(approve_sent_at=None)
            raise ProlificServiceError(
                f"{exc} {sent} approval(s) were sent before this."
                + (" Whether these went through will show at the next sync." if exc.uncertain else "")
            ) from exc
        sent += len(ids)
    study_sync(study=study)
    return sent


def rejection_check(*, message: str, category: str) -> None:
    if category not in dict(REJECTION_CATEGORIES):
        raise ProlificServiceError("Choose one of Prolific's rejection categories.")
    if len(message.strip()) < REJECTION_MESSAGE_MIN_CHARS:
        raise ProlificServiceError(
            f"Prolific needs a message of at least {REJECTION_MESSAGE_MIN_CHARS} characters "
            f"(this one has {len(message.strip())})."
        )


def rejectable(*, participant: Participant) -> ProlificSubmission | None:
    return (
        ProlificSubmission.objects.filter(
            wave__study_id=participant.study_id, participant_id=participant.prolific_pid, status="AWAITING REVIEW"
        )
        .order_by("-id")
        .first()
    )


def submission_reject(*, participant: Participant, message: str, category: str) -> ProlificSubmission:
    """Reject a participant's AWAITING REVIEW submission with Prolific's category and a message they will read."""
    rejection_check(message=message, category=category)
    row = rejectable(participant=participant)
    if row is None:
        raise ProlificServiceError("This participant has no submission awaiting review on Prolific.")
    claimed = ProlificSubmission.objects.filter(pk=row.pk, reject_sent_at__isnull=True, approve_sent_at__isnull=True)
    if not claimed.update(reject_sent_at=timezone.now(), reject_category=category, reject_message=message.strip()):
        raise ProlificServiceError("A decision on this submission was already sent to Prolific.")
    try:
        answer = client.submission_reject(submission_id=row.submission_id, message=message.strip(), category=category)
    except ProlificError as exc:
        if not exc.uncertain and not exc.transient:
            ProlificSubmission.objects.filter(pk=row.pk).update(reject_sent_at=None)
        raise ProlificServiceError(str(exc)) from exc
    submission_status_apply(
        submission_id=row.submission_id,
        participant_id=row.participant_id,
        status=str(answer.get("status", "REJECTED")),
        prolific_study_id=row.wave.prolific_study_id,
    )
    row.refresh_from_db()
    return row
