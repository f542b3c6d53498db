"""Prolific as the recruiter the precision panel asks (``annotation.precision.recruitment.Recruitment``).

Connected at start-up; without a token every answer is "Prolific not connected", the same words the panel shows when
no recruiter is connected at all.
"""

from __future__ import annotations

from annotation.models import Study
from annotation.precision.recruitment import RecruitmentUnavailable
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from annotation.prolific.models import ProlificWave
from annotation.prolific.sync import places_reconcile
from annotation.prolific.waves import reward_default


def _ensure_connected() -> None:
    if not client.is_configured():
        raise RecruitmentUnavailable("Prolific not connected")


def _reward_cents(study: Study, minutes: int) -> int:
    """The latest wave's reward when the study has one, else the default hourly rate for ``minutes``."""
    wave = study.prolific_waves.order_by("-number").first()
    return wave.reward_cents if wave is not None else reward_default(estimated_minutes=minutes)


class ProlificRecruitment:
    def study_cost(self, *, study: Study, places: int, minutes: int) -> str:
        _ensure_connected()
        try:
            cents = client.study_cost(reward_cents=_reward_cents(study, minutes), places=places)
        except ProlificError as exc:
            raise RecruitmentUnavailable(str(exc)) from exc
        return f"{cents / 100:,.2f} incl. Prolific's fees"

    def recruitment_time(self, *, study: Study, places: int) -> str:
        _ensure_connected()
        minutes = study.estimated_minutes
        try:
            body = client.predicted_recruitment_time(
                reward_cents=_reward_cents(study, minutes), places=places, estimated_minutes=minutes
            )
        except ProlificError as exc:
            raise RecruitmentUnavailable(str(exc)) from exc
        return str(body.get("display_string") or f"about {body.get('precise_recruitment_time_hours', '?')} hours")

    def places_raise(self, *, study: Study, by: int) -> str:
        _ensure_connected()
        wave = study.prolific_waves.filter(state=ProlificWave.State.PUBLISHED).order_by("-number").first()
        if wave is None:
            return f"Added {by} places here; no published Prolific study to raise yet (the draft will ask for them)."
        before = wave.places_prolific or 0
        wave = places_reconcile(wave=wave)
        if wave.last_error:
            raise RecruitmentUnavailable(wave.last_error)
        return f"Places on Prolific: {before} → {wave.places_prolific}."
