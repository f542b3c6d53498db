"""Which participant a browser session is, per study: bound at entry (or a coordinator's preview), read by every
participant page."""

from __future__ import annotations

from uuid import UUID

from django.contrib.sessions.backends.base import SessionBase

from annotation.models import Participant, Study

SESSION_KEY = "annotation_participants"  # {study public_id: participant pk}


def session_participant_bind(*, session: SessionBase, study: Study, participant: Participant) -> None:
    """Bind the participant to a fresh session key (no fixation: a planted cookie is replaced)."""
    bound = dict(session.get(SESSION_KEY, {}))
    session.cycle_key()
    bound[str(study.public_id)] = participant.pk
    session[SESSION_KEY] = bound


def session_participant_id(*, session: SessionBase, study_public_id: UUID) -> int | None:
    """The participant this session is bound to in the study, if any."""
    return session.get(SESSION_KEY, {}).get(str(study_public_id))
