"""Sync and places: read each published wave's study and submissions from Prolific (the beat task, or the study
page's *Sync*), apply them through ``submission_status_apply``, and raise the places on Prolific when our study is
short (places only ever go up)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from annotation.models import Participant, Study, StudyStatus
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from annotation.prolific.common import places_free, wave_error_record, wave_success_record
from annotation.prolific.models import PLACE_HOLDING, ProlificEvent, ProlificSubmission, ProlificWave
from annotation.prolific.submissions import submission_status_apply

logger = logging.getLogger("annotation.prolific")

# Prolific study statuses whose places may still be raised (raising reopens a COMPLETED study).
RAISABLE = ("ACTIVE", "PAUSED", "AWAITING REVIEW", "COMPLETED")
EVENT_MEMORY = timedelta(days=2)


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
        wave_error_record(wave=wave, exc=exc)
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
    wave_success_record(
        wave=wave,
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
        wave_error_record(wave=wave, exc=exc)
        if result is not None:
            result.errors.append(f"wave {wave.number}: {exc}")
        return wave
    wave_success_record(
        wave=wave,
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
        wave_error_record(wave=wave, exc=exc)
        result.errors.append(f"wave {wave.number}: {exc}")
        return
    status = str(remote.get("status", ""))
    if status in ("UNPUBLISHED", "SCHEDULED", ""):
        wave_success_record(wave=wave, prolific_status=status)
    else:
        wave_success_record(
            wave=wave, state=ProlificWave.State.PUBLISHED, prolific_status=status, published_at=timezone.now()
        )


def study_sync(*, study: Study) -> SyncResult:
    result = SyncResult()
    for draft in study.prolific_waves.filter(state=ProlificWave.State.DRAFT).exclude(last_error=""):
        _draft_check(draft, result)
    for wave in study.prolific_waves.filter(state=ProlificWave.State.PUBLISHED).order_by("number"):
        wave_sync(wave=wave, result=result)
    return result
