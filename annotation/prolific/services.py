"""The Prolific round from the study page: draft, cost, publish, sync, places, review, waves.

Every status Prolific reports — by the beat task's poll or by the webhook — goes through
``submission_status_apply``: a status only replaces one of a lower rank (``SUBMISSION_RANK``), so the same event
twice, or events out of order, change nothing twice. Calls that cost money or cannot be undone are claimed with a
conditional UPDATE before they are sent, so a double click or a replay never sends them twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotation.models import Participant, Slot, SlotStatus, Study, StudyStatus
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from annotation.prolific.models import (
    PLACE_HOLDING,
    REJECTION_CATEGORIES,
    REJECTION_MESSAGE_MIN_CHARS,
    SUBMISSION_RANK,
    ProlificEvent,
    ProlificSubmission,
    ProlificWave,
)
from annotation.services.review import participant_review_set
from annotation.services.slots import participant_release
from annotation.services.study import slot_add

logger = logging.getLogger("annotation.prolific")

DEVICES = ("desktop", "tablet", "mobile")
RELEASE = {"RETURNED": Participant.Status.RETURNED, "TIMED-OUT": Participant.Status.TIMED_OUT}
# Prolific study statuses whose places may still be raised (raising reopens a COMPLETED study).
RAISABLE = ("ACTIVE", "PAUSED", "AWAITING REVIEW", "COMPLETED")
APPROVE_CHUNK = 1000
DEFAULT_HOURLY_REWARD_CENTS = 900
EVENT_MEMORY = timedelta(days=2)


class ProlificServiceError(Exception):
    """The request cannot be carried out; the message is fit to show the coordinator."""


def reward_default(*, estimated_minutes: int) -> int:
    """A reward in cents at ``DEFAULT_HOURLY_REWARD_CENTS`` an hour for the study's estimated time."""
    return max(1, -(-estimated_minutes * DEFAULT_HOURLY_REWARD_CENTS // 60))


def places_total(*, study: Study) -> int:
    """Places the design asks for: every slot (personas times raters, plus places added later)."""
    return Slot.objects.filter(study=study).count()


def places_free(*, study: Study) -> int:
    return Slot.objects.filter(study=study, status=SlotStatus.FREE).count()


def _record_error(wave: ProlificWave, exc: ProlificError) -> None:
    ProlificWave.objects.filter(pk=wave.pk).update(last_error=str(exc)[:2000], last_error_at=timezone.now())
    wave.refresh_from_db()


def _record_ok(wave: ProlificWave, **fields: Any) -> None:
    ProlificWave.objects.filter(pk=wave.pk).update(last_error="", last_error_at=None, **fields)
    wave.refresh_from_db()


# --- Draft, cost, publish -----------------------------------------------------------------------------------------


def _completion_codes(study: Study) -> list[dict[str, Any]]:
    return [
        {"code": study.completion_code, "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]},
        {
            "code": study.failed_check_code,
            "code_type": "FAILED_ATTENTION_CHECK",
            "actions": [{"action": "MANUALLY_REVIEW"}],
        },
        {
            "code": study.no_place_code,
            "code_type": "OTHER",
            "actions": [{"action": "REQUEST_RETURN", "return_reason": "The study was full when you arrived."}],
        },
    ]


def wave_body(*, wave: ProlificWave, entry_url: str, devices: list[str]) -> dict[str, Any]:
    """Prolific's ``CreateStudy`` body for a wave (shown to the coordinator before it is sent)."""
    study = wave.study
    body: dict[str, Any] = {
        "name": study.name if wave.number == 1 else f"{study.name} (wave {wave.number})",
        "internal_name": wave.internal_name,
        "description": (
            "Read a short profile of a person, then decide which of two AI replies that person would prefer and "
            "explain why, in your own words."
        ),
        "external_study_url": entry_url,
        "prolific_id_option": "url_parameters",
        "completion_codes": _completion_codes(study),
        "total_available_places": wave.places_asked,
        "estimated_completion_time": wave.estimated_minutes,
        "maximum_allowed_time": max(study.max_minutes, wave.estimated_minutes),
        "reward": wave.reward_cents,
        "device_compatibility": devices,
        "metadata": str(study.public_id),
    }
    if wave.exclusion_group_id:
        body["filters"] = [{"filter_id": "participant_group_blocklist", "selected_values": [wave.exclusion_group_id]}]
    return body


def _previous_participants(study: Study) -> list[str]:
    """Everyone who took part in an earlier wave (any status) or arrived at our study at all."""
    ids = set(ProlificSubmission.objects.filter(wave__study=study).values_list("participant_id", flat=True))
    ids |= set(Participant.objects.filter(study=study, is_preview=False).values_list("prolific_pid", flat=True))
    return sorted(ids)


def _exclusion_group_ensure(wave: ProlificWave) -> None:
    """Create the wave's exclusion group (once) and put every earlier participant in it (adding is idempotent)."""
    if not wave.exclusion_group_id:
        workspace = client.workspace_id()
        # Sent once: a create whose answer is lost leaves at most an unused empty group, never a wrong filter.
        group = client.participant_group_create(
            workspace_id=workspace,
            name=f"{wave.internal_name} exclusions",
            description="Participants of earlier waves (Persona Lab).",
        )
        ProlificWave.objects.filter(pk=wave.pk).update(exclusion_group_id=str(group["id"]))
        wave.refresh_from_db()
    members = _previous_participants(wave.study)
    for start in range(0, len(members), 1000):
        client.participant_group_add(group_id=wave.exclusion_group_id, participant_ids=members[start : start + 1000])
    ProlificWave.objects.filter(pk=wave.pk).update(excluded_count=len(members))
    wave.refresh_from_db()


def wave_start(*, study: Study, reward_cents: int, estimated_minutes: int) -> ProlificWave:
    """Record the next wave (nothing is sent yet). Wave 1 asks for every place; later waves for the places still
    needed. Refused while an earlier wave is not published or nothing is needed."""
    if not client.is_configured():
        raise ProlificServiceError("Prolific is not connected: set PROLIFIC_API_TOKEN.")
    if study.status != StudyStatus.LIVE:
        raise ProlificServiceError("Launch the study first: Prolific sends participants to a live study only.")
    if reward_cents < 1 or estimated_minutes < 1:
        raise ProlificServiceError("The reward (in cents) and the estimated minutes must be positive.")
    waves = list(study.prolific_waves.all())
    unfinished = [w for w in waves if w.state != ProlificWave.State.PUBLISHED]
    if unfinished:
        raise ProlificServiceError(f"Wave {unfinished[0].number} is not published yet; publish or finish it first.")
    places = places_total(study=study) if not waves else places_free(study=study)
    if places < 1:
        raise ProlificServiceError("Every place is taken or filled: a new wave has nothing to recruit.")
    number = (study.prolific_waves.aggregate(m=Max("number"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            return ProlificWave.objects.create(
                study=study,
                number=number,
                reward_cents=reward_cents,
                estimated_minutes=estimated_minutes,
                places_asked=places,
            )
    except IntegrityError:
        raise ProlificServiceError("Another wave was started at the same moment; reload the page.") from None


def wave_draft_create(*, wave: ProlificWave, entry_url: str, devices: list[str]) -> ProlificWave:
    """Create the wave's draft on Prolific (status UNPUBLISHED) and ask its cost calculator for the price.

    The create call is sent once; if its answer is lost, the draft is looked up by ``internal_name`` before
    creating again, so a retry never makes a second study."""
    if wave.state not in (ProlificWave.State.CREATING, ProlificWave.State.CHECK) or wave.prolific_study_id:
        raise ProlificServiceError(f"Wave {wave.number} already has a draft on Prolific.")
    bad = [d for d in devices if d not in DEVICES]
    if bad or not devices:
        raise ProlificServiceError("Choose at least one device: desktop, tablet or mobile.")
    try:
        if wave.number > 1:
            _exclusion_group_ensure(wave)
        found = [s for s in client.studies_list() if s.get("internal_name") == wave.internal_name]
        if found:
            created = client.study_get(study_id=str(found[0]["id"]))
        else:
            created = client.study_create(body=wave_body(wave=wave, entry_url=entry_url, devices=devices))
    except ProlificError as exc:
        _record_error(wave, exc)
        if exc.uncertain:
            ProlificWave.objects.filter(pk=wave.pk).update(state=ProlificWave.State.CHECK)
            wave.refresh_from_db()
        raise ProlificServiceError(
            f"{exc} The draft may or may not exist; *Create draft* again looks it up before creating."
            if exc.uncertain
            else str(exc)
        ) from exc
    _record_ok(
        wave,
        state=ProlificWave.State.DRAFT,
        prolific_study_id=str(created["id"]),
        prolific_status=str(created.get("status", "")),
        places_prolific=created.get("total_available_places"),
    )
    wave_cost_refresh(wave=wave)
    return wave


def wave_cost_refresh(*, wave: ProlificWave) -> ProlificWave:
    """Prolific's cost calculator for the wave's reward and places (cents, fees and VAT included)."""
    try:
        cost = client.study_cost(reward_cents=wave.reward_cents, places=wave.places_asked)
    except ProlificError as exc:
        _record_error(wave, exc)
        return wave
    _record_ok(wave, cost_cents=cost)
    return wave


def wave_publish(*, wave: ProlificWave) -> ProlificWave:
    """Publish the draft (``transition`` PUBLISH). Reads the status first, so a repeated click does nothing."""
    if wave.state != ProlificWave.State.DRAFT or not wave.prolific_study_id:
        raise ProlificServiceError(f"Wave {wave.number} is not a draft on Prolific.")
    try:
        current = client.study_get(study_id=wave.prolific_study_id)
        if current.get("status") == "UNPUBLISHED":
            current = client.study_transition(study_id=wave.prolific_study_id, action="PUBLISH")
    except ProlificError as exc:
        _record_error(wave, exc)
        raise ProlificServiceError(
            f"{exc} Whether it was published will show at the next sync." if exc.uncertain else str(exc)
        ) from exc
    status = str(current.get("status", ""))
    if status in ("UNPUBLISHED", "SCHEDULED"):
        _record_ok(wave, prolific_status=status)
        raise ProlificServiceError(f"Prolific kept the study {status.lower()}.")
    _record_ok(
        wave,
        state=ProlificWave.State.PUBLISHED,
        prolific_status=status,
        places_prolific=current.get("total_available_places", wave.places_prolific),
        published_at=timezone.now(),
    )
    return wave


# --- Submissions: one code path for the poll and the webhook ------------------------------------------------------


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


# --- Sync and places ---------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    waves: int = 0
    changed: int = 0
    released: int = 0
    places_added: int = 0
    raised_to: dict[int, int] = field(default_factory=dict)  # wave pk → new total_available_places
    errors: list[str] = field(default_factory=list)


def wave_sync(*, wave: ProlificWave, result: SyncResult | None = None) -> SyncResult:
    """Read the wave's study and submissions from Prolific, apply every status, then raise places if short."""
    result = result or SyncResult()
    result.waves += 1
    try:
        remote = client.study_get(study_id=wave.prolific_study_id)
        submissions = client.study_submissions(study_id=wave.prolific_study_id)
    except ProlificError as exc:
        _record_error(wave, exc)
        result.errors.append(f"wave {wave.number}: {exc}")
        return result
    for item in submissions:
        applied = submission_status_apply(
            submission_id=str(item["id"]),
            participant_id=str(item.get("participant_id", "")),
            status=str(item.get("status", "")),
            prolific_study_id=wave.prolific_study_id,
        )
        result.changed += applied.changed
        result.released += applied.released
        result.places_added += applied.place_added
    _record_ok(
        wave,
        prolific_status=str(remote.get("status", wave.prolific_status)),
        places_prolific=remote.get("total_available_places", wave.places_prolific),
        last_synced_at=timezone.now(),
    )
    places_reconcile(wave=wave, result=result)
    return result


def places_needed(*, wave: ProlificWave) -> int:
    """Places the wave's Prolific study must have: the submissions holding a place that hold one of ours or have
    finished, plus our free places. (A submission Prolific has started but that has not reached us yet will take
    one of our free places, so it is not counted twice.)"""
    holding = ProlificSubmission.objects.filter(wave=wave, status__in=PLACE_HOLDING)
    in_flight = holding.filter(status__in=("RESERVED", "ACTIVE")).values_list("participant_id", flat=True)
    with_slot = set(
        Participant.objects.filter(
            study_id=wave.study_id, prolific_pid__in=list(in_flight), slot__isnull=False
        ).values_list("prolific_pid", flat=True)
    )
    counted = holding.exclude(status__in=("RESERVED", "ACTIVE")).count() + len(with_slot)
    return counted + places_free(study=wave.study)


def places_reconcile(*, wave: ProlificWave, result: SyncResult | None = None) -> ProlificWave:
    """Raise the latest published wave's places on Prolific when our study is short (places only ever go up)."""
    latest = wave.study.prolific_waves.filter(state=ProlificWave.State.PUBLISHED).order_by("-number").first()
    if latest is None or latest.pk != wave.pk or wave.study.status != StudyStatus.LIVE:
        return wave
    if wave.prolific_status not in RAISABLE:
        return wave
    needed = places_needed(wave=wave)
    have = wave.places_prolific or 0
    if needed <= have:
        return wave
    try:
        remote = client.study_places_set(study_id=wave.prolific_study_id, places=needed)
    except ProlificError as exc:
        _record_error(wave, exc)
        if result is not None:
            result.errors.append(f"wave {wave.number}: {exc}")
        return wave
    _record_ok(
        wave,
        places_asked=max(needed, wave.places_asked),
        places_prolific=remote.get("total_available_places", needed),
        prolific_status=str(remote.get("status", wave.prolific_status)),
    )
    logger.info("prolific wave %s: places raised from %s to %s", wave.pk, have, needed)
    if result is not None:
        result.raised_to[wave.pk] = needed
    return wave


def prolific_sync_all() -> SyncResult:
    """Sync every published wave of studies that are not closed (the beat task, every minute)."""
    result = SyncResult()
    if not client.is_configured():
        return result
    # Prolific retries a delivery for a day; ids older than two days can never come back.
    ProlificEvent.objects.filter(received_at__lt=timezone.now() - EVENT_MEMORY).delete()
    for draft in ProlificWave.objects.filter(state=ProlificWave.State.DRAFT).exclude(last_error=""):
        _draft_check(draft, result)
    waves = ProlificWave.objects.filter(state=ProlificWave.State.PUBLISHED).exclude(study__status=StudyStatus.CLOSED)
    for wave in waves.select_related("study").order_by("study_id", "number"):
        wave_sync(wave=wave, result=result)
    return result


def _draft_check(wave: ProlificWave, result: SyncResult) -> None:
    """A draft whose publish call failed or lost its answer: adopt what Prolific shows (published or not)."""
    try:
        remote = client.study_get(study_id=wave.prolific_study_id)
    except ProlificError as exc:
        _record_error(wave, exc)
        result.errors.append(f"wave {wave.number}: {exc}")
        return
    status = str(remote.get("status", ""))
    if status in ("UNPUBLISHED", "SCHEDULED", ""):
        _record_ok(wave, prolific_status=status)
    else:
        _record_ok(wave, state=ProlificWave.State.PUBLISHED, prolific_status=status, published_at=timezone.now())


def study_sync(*, study: Study) -> SyncResult:
    result = SyncResult()
    for draft in study.prolific_waves.filter(state=ProlificWave.State.DRAFT).exclude(last_error=""):
        _draft_check(draft, result)
    for wave in study.prolific_waves.filter(state=ProlificWave.State.PUBLISHED).order_by("number"):
        wave_sync(wave=wave, result=result)
    return result


# --- Review ------------------------------------------------------------------------------------------------------


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


# --- The panel ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveRow:
    wave: ProlificWave
    counts: dict[str, int]


def study_prolific_panel(*, study: Study) -> dict[str, Any]:
    """What the study page's Prolific panel shows."""
    rows = []
    for wave in study.prolific_waves.order_by("number"):
        counts: dict[str, int] = {}
        for status in wave.submissions.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        rows.append(WaveRow(wave=wave, counts=counts))
    down = [r.wave for r in rows if r.wave.last_error]
    passed = {row.participant_id for row in approvable(study=study)}
    awaiting = ProlificSubmission.objects.filter(wave__study=study, status="AWAITING REVIEW").values_list(
        "participant_id", flat=True
    )
    # Raters who did not pass our checks; never an arrival turned away for want of a place (not their fault).
    review_rest = Participant.objects.filter(
        study=study,
        is_preview=False,
        study_persona__isnull=False,
        prolific_pid__in=[pid for pid in awaiting if pid not in passed],
    ).order_by("id")
    return {
        "connected": client.is_configured(),
        "waves": rows,
        "down": down,
        "approvable": len(passed),
        "review_rest": list(review_rest),
        "free_places": places_free(study=study),
        # A later wave is offered once every wave is published, the latest has stopped recruiting, and places
        # are still free (raising places on the running wave is automatic).
        "next_wave_ok": bool(rows)
        and all(r.wave.is_published for r in rows)
        and rows[-1].wave.prolific_status != "ACTIVE"
        and places_free(study=study) > 0,
        "reward_default": reward_default(estimated_minutes=study.estimated_minutes),
    }
