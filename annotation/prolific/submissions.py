"""Submissions: one code path for the poll and the webhook.

Every status Prolific reports — by the beat task's poll or by the webhook — goes through
``submission_status_apply``: a status only replaces one of a lower rank (``SUBMISSION_RANK``), so the same event
twice, or events out of order, change nothing twice. A returned or timed-out rater's place goes back to the pool; a
rejected rater's persona gets one new place, claimed with a conditional UPDATE so it is added once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import Participant
from annotation.prolific.models import SUBMISSION_RANK, ProlificEvent, ProlificSubmission, ProlificWave
from annotation.services.review import participant_review_set
from annotation.services.slots import participant_release
from annotation.services.study import slot_add

RELEASE = {"RETURNED": Participant.Status.RETURNED, "TIMED-OUT": Participant.Status.TIMED_OUT}


@dataclass
class ApplyResult:
    changed: bool = False
    released: bool = False  # our place went back to the pool
    place_added: bool = False  # a rejected rater's place was opened again
    unknown: bool = False  # no wave and no participant knows this submission


def _wave_for(*, submission_id: str, participant_id: str, prolific_study_id: str) -> ProlificWave | None:
    if prolific_study_id:
        wave = ProlificWave.objects.filter(prolific_study_id=prolific_study_id).first()
        if wave:
            return wave
    known = ProlificSubmission.objects.filter(submission_id=submission_id).select_related("wave").first()
    if known:
        return known.wave
    arrival = Participant.objects.filter(prolific_session_id=submission_id, is_preview=False).first()
    if arrival and arrival.prolific_study_id:
        return ProlificWave.objects.filter(prolific_study_id=arrival.prolific_study_id).first()
    return None


def _participant_for(*, study_id: int | None, submission_id: str, participant_id: str) -> Participant | None:
    people = Participant.objects.filter(is_preview=False)
    if study_id is not None:
        people = people.filter(study_id=study_id)
    if participant_id and study_id is not None:
        found = people.filter(prolific_pid=participant_id).first()
        if found:
            return found
    return people.filter(prolific_session_id=submission_id).first() if submission_id else None


def submission_status_apply(
    *, submission_id: str, participant_id: str, status: str, prolific_study_id: str = ""
) -> ApplyResult:
    """Apply one submission status from Prolific (the poll or the webhook): record it if it moves the submission
    forward, then give a returned or timed-out rater's place back and open a new place for a rejected one."""
    result = ApplyResult()
    status = status.strip().upper()
    status = {"AWAITING_REVIEW": "AWAITING REVIEW", "TIMED_OUT": "TIMED-OUT", "SCREENED_OUT": "SCREENED OUT"}.get(
        status, status
    )
    if status not in SUBMISSION_RANK or not (submission_id or participant_id):
        return result
    wave = _wave_for(submission_id=submission_id, participant_id=participant_id, prolific_study_id=prolific_study_id)
    with transaction.atomic():
        if wave is not None and submission_id:
            row, created = ProlificSubmission.objects.select_for_update().get_or_create(
                submission_id=submission_id,
                defaults={"wave": wave, "participant_id": participant_id or "", "status": status},
            )
            if not created:
                if SUBMISSION_RANK.get(row.status, -1) >= SUBMISSION_RANK[status]:
                    return result  # the same event again, or an older one arriving late
                ProlificSubmission.objects.filter(pk=row.pk).update(status=status, updated_at=timezone.now())
                row.status = status
            participant_id = participant_id or row.participant_id
            result.changed = True
        participant = _participant_for(
            study_id=wave.study_id if wave else None, submission_id=submission_id, participant_id=participant_id
        )
        if participant is None:
            result.unknown = wave is None
            return result
        result.changed = True
        if status in RELEASE:
            result.released = participant_release(participant=participant, status=RELEASE[status])
        elif status == "APPROVED" and participant.review == Participant.Review.PENDING:
            participant_review_set(participant=participant, decision=Participant.Review.APPROVED)
        elif status == "REJECTED":
            if participant.review != Participant.Review.EXCLUDED:
                participant_review_set(
                    participant=participant, decision=Participant.Review.EXCLUDED, note="Rejected on Prolific."
                )
            result.place_added = _rejected_place_add(submission_id=submission_id, participant=participant)
    return result


def _rejected_place_add(*, submission_id: str, participant: Participant) -> bool:
    """Open one new place for the rejected rater's persona, once per submission (claimed by a conditional UPDATE)."""
    entry = participant.study_persona
    if entry is None or participant.status != Participant.Status.SUBMITTED:
        return False
    claimed = ProlificSubmission.objects.filter(submission_id=submission_id, place_added_at__isnull=True).update(
        place_added_at=timezone.now()
    )
    if not claimed:
        return False
    slot_add(study_persona=entry)
    return True


def webhook_event_apply(*, event_id: str, payload: dict[str, Any]) -> tuple[bool, ApplyResult]:
    """A signed webhook delivery: applied once per ``X-Event-ID`` (Prolific retries for a day with the same id).
    Returns (duplicate, result)."""
    event_type = str(payload.get("event_type", ""))[:64]
    with transaction.atomic():
        if event_id:
            try:
                with transaction.atomic():
                    ProlificEvent.objects.create(event_id=event_id[:128], event_type=event_type)
            except IntegrityError:
                return True, ApplyResult()
        if event_type == "submission.status.change":
            return False, submission_status_apply(
                submission_id=_text(payload.get("resource_id")),
                participant_id=_text(payload.get("participant_id")),
                status=_text(payload.get("status")),
                prolific_study_id=_text(payload.get("study_id")),
            )
        if event_type == "study.status.change":
            status = _text(payload.get("status")).upper()
            changed = ProlificWave.objects.filter(prolific_study_id=_text(payload.get("resource_id"))).exclude(
                prolific_status=status
            )
            return False, ApplyResult(changed=bool(status) and bool(changed.update(prolific_status=status)))
    return False, ApplyResult()


def _text(value: object) -> str:
    """An id from a webhook body: at most 64 characters, and none that no id has (a NUL matches nobody)."""
    text = str(value or "")[:64]
    return "" if any(ord(c) < 32 for c in text) else text
