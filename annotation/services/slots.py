"""Slot claiming and release: exact-k under concurrency.

A claim runs in one transaction. PostgreSQL: the participant row is created under its unique (study, PID)
constraint, then one free slot is taken with ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent arrivals each lock a
different row and nobody waits on a slot someone else is taking. SQLite: transactions are IMMEDIATE, so writers run
one at a time. Either way the final write is a conditional UPDATE on the slot's status, and the database checks
that a slot has at most one holder and a participant at most one slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import Participant, Slot, SlotStatus, Study, StudyPersona, StudyStatus

PID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARAM_PATTERN = re.compile(r"^[A-Za-z0-9_-]{0,64}$")


class EntryOutcome(StrEnum):
    ASSIGNED = "assigned"  # holds a slot (new or the same one as before)
    SUBMITTED = "submitted"  # already finished: read-only pages
    FULL = "full"  # no place left
    RELEASED = "released"  # came back after being returned/timed out and the slot was given away
    NOT_OPEN = "not_open"  # draft, paused or closed
    OTHER_SESSION = "other_session"  # the PID is bound to another Prolific SESSION_ID: someone else's link


@dataclass(frozen=True)
class Entry:
    outcome: EntryOutcome
    participant: Participant | None = None


def pid_is_valid(pid: str) -> bool:
    return bool(PID_PATTERN.match(pid))


def param_is_valid(value: str) -> bool:
    return bool(PARAM_PATTERN.match(value))


def _participant_get_or_create(*, study: Study, pid: str, study_param: str, session_param: str) -> Participant:
    participant = Participant.objects.select_for_update().filter(study=study, prolific_pid=pid).first()
    if participant is not None:
        return participant
    try:
        with transaction.atomic():  # savepoint: a concurrent first arrival of the same PID may win the insert
            return Participant.objects.create(
                study=study, prolific_pid=pid, prolific_study_id=study_param, prolific_session_id=session_param
            )
    except IntegrityError:
        return Participant.objects.select_for_update().get(study=study, prolific_pid=pid)


def _slot_take(*, study: Study, participant: Participant) -> Slot | None:
    """Take one free slot (or one whose reservation expired), filling personas evenly: slot 0 of each first."""
    now = timezone.now()
    expired = now - study.reservation_timeout
    for _attempt in range(5):
        candidate = (
            Slot.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(study=study)
            .claimable(expired_before=expired)
            .order_by("index", "study_persona_id")
            .first()
        )
        if candidate is None:
            return None
        previous_holder = candidate.holder_id
        if previous_holder is not None:
            # The earlier holder ran out of time and the slot is being given away: they are timed out now.
            Slot.objects.filter(pk=candidate.pk).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
            Participant.objects.filter(pk=previous_holder, status=Participant.Status.ACTIVE).update(
                status=Participant.Status.TIMED_OUT, released_at=now
            )
        taken = Slot.objects.filter(pk=candidate.pk, status=SlotStatus.FREE, holder__isnull=True).update(
            status=SlotStatus.RESERVED, holder=participant, reserved_at=now
        )
        if taken:
            candidate.refresh_from_db()
            return candidate
    return None


def participant_enter(*, study: Study, pid: str, study_param: str = "", session_param: str = "") -> Entry:
    """Admit a Prolific participant: the same PID always gets its own slot back; a new one claims a free slot."""
    with transaction.atomic():
        existing = Participant.objects.filter(study=study, prolific_pid=pid).first()
        if existing is None and study.status != StudyStatus.LIVE:
            return Entry(EntryOutcome.NOT_OPEN)
        participant = _participant_get_or_create(
            study=study, pid=pid, study_param=study_param, session_param=session_param
        )
        if not participant_session_matches(participant=participant, session_param=session_param):
            return Entry(EntryOutcome.OTHER_SESSION, participant)
        if participant.status == Participant.Status.SUBMITTED:
            return Entry(EntryOutcome.SUBMITTED, participant)
        held = Slot.objects.filter(holder=participant).first()
        if held is not None:
            if participant.status != Participant.Status.ACTIVE:
                # Marked timed out by a sweep but nobody took the slot: a late original holder may still finish.
                Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.ACTIVE)
                participant.refresh_from_db()
            return Entry(EntryOutcome.ASSIGNED, participant)
        if participant.status in (Participant.Status.RETURNED, Participant.Status.TIMED_OUT):
            return Entry(EntryOutcome.RELEASED, participant)
        if study.status != StudyStatus.LIVE:
            return Entry(EntryOutcome.NOT_OPEN, participant)
        slot = _slot_take(study=study, participant=participant)
        if slot is None:
            return Entry(EntryOutcome.FULL, participant)
        participant.study_persona_id = slot.study_persona_id
        participant.save(update_fields=["study_persona"])
        return Entry(EntryOutcome.ASSIGNED, participant)


def participant_session_matches(*, participant: Participant, session_param: str) -> bool:
    """Is this entry from the participant's own Prolific submission? The first SESSION_ID seen binds the
    participant (call inside the entry's transaction: the row is locked); a different one later, or none once bound,
    is someone who knows the PID and the study link but not the submission."""
    if not participant.prolific_session_id:
        if session_param:
            Participant.objects.filter(pk=participant.pk).update(prolific_session_id=session_param)
            participant.prolific_session_id = session_param
        return True
    return participant.prolific_session_id == session_param


def participant_session_reset(*, participant: Participant) -> None:
    """Forget the bound SESSION_ID (a coordinator's decision, e.g. Prolific gave the participant a new submission):
    the next entry binds again."""
    Participant.objects.filter(pk=participant.pk).update(prolific_session_id="")
    participant.prolific_session_id = ""


def participant_release(*, participant: Participant, status: str) -> bool:
    """Mark a participant returned or timed out and free their slot for a new arrival (not once submitted)."""
    if status not in (Participant.Status.RETURNED, Participant.Status.TIMED_OUT):
        raise ValueError(f"cannot release to status {status!r}")
    with transaction.atomic():
        changed = Participant.objects.filter(pk=participant.pk, status=Participant.Status.ACTIVE).update(
            status=status, released_at=timezone.now()
        )
        if changed:
            Slot.objects.filter(holder=participant, status=SlotStatus.RESERVED).update(
                holder=None, status=SlotStatus.FREE, reserved_at=None
            )
    participant.refresh_from_db()
    return bool(changed)


def preview_participant_start(*, study: Study, user: object, study_persona: StudyPersona) -> Participant:
    """A coordinator's preview run: a participant flagged as preview, holding no slot, answers wiped each time."""
    pid = f"preview:{getattr(user, 'pk', 0)}"  # ":" never passes PID_PATTERN, so no real PID collides
    with transaction.atomic():
        participant, _ = Participant.objects.update_or_create(
            study=study,
            prolific_pid=pid,
            defaults={
                "is_preview": True,
                "study_persona": study_persona,
                "status": Participant.Status.ACTIVE,
                "submitted_at": None,
                "failed_attention_check": False,
            },
        )
        participant.answers.all().delete()
    return participant
