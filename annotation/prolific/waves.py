"""A wave from the study page: record it, create its draft on Prolific with the cost calculator's price, publish it.

The create call is sent once and found again by the wave's ``internal_name``, and publishing reads the study's
status first, so a double click or a retry never makes a second study or publishes twice.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotation.models import Participant, Study, StudyStatus
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from annotation.prolific.common import (
    ProlificServiceError,
    places_free,
    places_total,
    wave_error_record,
    wave_success_record,
)
from annotation.prolific.models import ProlificSubmission, ProlificWave

DEVICES = ("desktop", "tablet", "mobile")
DEFAULT_HOURLY_REWARD_CENTS = 900


def reward_default(*, estimated_minutes: int) -> int:
    """A reward in cents at ``DEFAULT_HOURLY_REWARD_CENTS`` an hour for the study's estimated time."""
    return max(1, -(-estimated_minutes * DEFAULT_HOURLY_REWARD_CENTS // 60))


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
        wave_error_record(wave=wave, exc=exc)
        if exc.uncertain:
            ProlificWave.objects.filter(pk=wave.pk).update(state=ProlificWave.State.CHECK)
            wave.refresh_from_db()
        raise ProlificServiceError(
            f"{exc} The draft may or may not exist; *Create draft* again looks it up before creating."
            if exc.uncertain
            else str(exc)
        ) from exc
    wave_success_record(
        wave=wave,
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
        wave_error_record(wave=wave, exc=exc)
        return wave
    wave_success_record(wave=wave, cost_cents=cost)
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
        wave_error_record(wave=wave, exc=exc)
        raise ProlificServiceError(
            f"{exc} Whether it was published will show at the next sync." if exc.uncertain else str(exc)
        ) from exc
    status = str(current.get("status", ""))
    if status in ("UNPUBLISHED", "SCHEDULED"):
        wave_success_record(wave=wave, prolific_status=status)
        raise ProlificServiceError(f"Prolific kept the study {status.lower()}.")
    wave_success_record(
        wave=wave,
        state=ProlificWave.State.PUBLISHED,
        prolific_status=status,
        places_prolific=current.get("total_available_places", wave.places_prolific),
        published_at=timezone.now(),
    )
    return wave
