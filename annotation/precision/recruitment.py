"""What recruiting a design costs and how long it takes, and raising places: whatever recruits for us, behind one
small interface.

The Prolific client connects an implementation at start-up (``recruitment_connect``); until one is connected every
figure reads "not available: Prolific not connected" and adding places changes only our own slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from annotation.models import Study

NOT_CONNECTED = "not available: Prolific not connected"


class RecruitmentUnavailable(Exception):
    """The recruiter cannot answer now (down, refused, not set up for this study); the message is shown as is."""


class Recruitment(Protocol):
    def study_cost(self, *, study: Study, places: int, minutes: int) -> str:
        """What ``places`` places of ``minutes`` each would cost, in words (e.g. "£182.40 incl. fees")."""
        ...

    def recruitment_time(self, *, study: Study, places: int) -> str:
        """How long filling ``places`` places is predicted to take, in words (e.g. "about 3 hours")."""
        ...

    def places_raise(self, *, study: Study, by: int) -> str:
        """Raise the study's places by ``by`` (places only go up); what happened, in words."""
        ...


_connected: list[Recruitment] = []


def recruitment_connect(recruitment: Recruitment | None) -> None:
    """Connect (or with None, disconnect) the recruiter every precision figure asks."""
    _connected.clear()
    if recruitment is not None:
        _connected.append(recruitment)


def recruitment_current() -> Recruitment | None:
    return _connected[0] if _connected else None


@dataclass(frozen=True)
class Quote:
    cost: str
    time: str


def quote_get(*, study: Study, places: int, minutes: int) -> Quote:
    """Cost and time to fill for one design; each says why when the recruiter cannot give it."""
    recruitment = recruitment_current()
    if recruitment is None:
        return Quote(NOT_CONNECTED, NOT_CONNECTED)
    try:
        cost = recruitment.study_cost(study=study, places=places, minutes=minutes)
    except RecruitmentUnavailable as exc:
        cost = f"not available: {exc}"
    try:
        time = recruitment.recruitment_time(study=study, places=places)
    except RecruitmentUnavailable as exc:
        time = f"not available: {exc}"
    return Quote(cost, time)


def places_raise(*, study: Study, by: int) -> str:
    """Raise places on the recruiter after slots were added here; what happened, in words."""
    recruitment = recruitment_current()
    if recruitment is None:
        return "Places on Prolific were not raised: Prolific not connected."
    try:
        return recruitment.places_raise(study=study, by=by)
    except RecruitmentUnavailable as exc:
        return f"Places on Prolific were not raised: {str(exc).rstrip('.')}."
