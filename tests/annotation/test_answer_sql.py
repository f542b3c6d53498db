"""The SQL save is the hot path's authorisation: it writes only what the session's participant may write."""

from __future__ import annotations

import uuid

import pytest

from annotation.models import Answer, Participant, Slot
from annotation.selectors import questions_for
from annotation.services.answer_sql import Progress, answers_progress
from annotation.services.answers import AnswerChange, answer_change_apply, answer_open
from annotation.services.slots import participant_enter
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db

CHANGE = AnswerChange(letter="A", reasoning="Because of who they are.", elapsed_ms=500)


def _shown(study: object, pid: str) -> tuple[Participant, Answer]:
    participant = participant_enter(study=study, pid=pid, study_param="S", session_param=pid).participant
    answer = answer_open(participant=participant, question=questions_for(participant=participant)[0])
    return participant, answer


def _apply(
    participant: Participant, *, study_public_id: object = None, position: int = 1, **change: object
) -> Progress | None:
    fields = {"letter": CHANGE.letter, "reasoning": CHANGE.reasoning, "elapsed_ms": CHANGE.elapsed_ms, **change}
    return answer_change_apply(
        participant_id=participant.pk,
        study_public_id=study_public_id or participant.study.public_id,
        position=position,
        change=AnswerChange(**fields),  # type: ignore[arg-type]
    )


def test_an_allowed_change_is_written_once() -> None:
    participant, answer = _shown(study_make(personas=1, k=2, n=2), "sql-ok")
    assert _apply(participant)
    answer.refresh_from_db()
    assert (answer.letter, answer.reasoning, answer.revisions, answer.time_ms) == ("A", CHANGE.reasoning, 1, 500)
    assert _apply(participant, elapsed_ms=0)  # the same change again: allowed, but nothing moves
    answer.refresh_from_db()
    assert (answer.revisions, answer.time_ms) == (1, 500)


@pytest.mark.parametrize(
    "case",
    ["other study", "unknown study", "released", "submitted", "slot given away", "too long",
     "pasted where blocked", "no row yet", "no such position", "bad letter"],
)  # fmt: skip
def test_refused_changes_write_nothing(case: str) -> None:
    study = study_make(personas=1, k=2, n=2, reasoning_max_chars=40, block_paste=True)
    other_study = study_make(personas=1, k=1, n=2)
    participant, answer = _shown(study, "sql-me")
    _shown(study, "sql-other")  # another participant's rows must stay as they are too
    kwargs: dict[str, object] = {}
    if case == "other study":
        kwargs["study_public_id"] = other_study.public_id
    elif case == "unknown study":
        kwargs["study_public_id"] = uuid.uuid4()
    elif case in ("released", "submitted"):
        status = Participant.Status.RETURNED if case == "released" else Participant.Status.SUBMITTED
        Participant.objects.filter(pk=participant.pk).update(status=status)
    elif case == "slot given away":
        Slot.objects.filter(holder=participant).update(holder=None, status="free")
    elif case == "too long":
        kwargs["reasoning"] = "x" * 41
    elif case == "pasted where blocked":
        kwargs["pasted"] = True
    elif case == "no row yet":
        kwargs["position"] = 2
    elif case == "no such position":
        kwargs["position"] = 99
    elif case == "bad letter":
        kwargs["letter"] = "C"
    before = list(Answer.objects.order_by("pk").values())
    assert not _apply(participant, **kwargs)
    assert list(Answer.objects.order_by("pk").values()) == before
    answer.refresh_from_db()
    assert answer.revisions == 0


def test_progress_counts_complete_answers_and_reports_the_saved_one() -> None:
    study = study_make(personas=1, k=1, n=3, checks=1)
    participant, _answer = _shown(study, "sql-progress")
    assert answers_progress(participant_id=participant.pk) == answers_progress(
        participant_id=participant.pk, position=9
    )
    empty = answers_progress(participant_id=participant.pk, position=1)
    assert (empty.answered, empty.total, empty.saved) == (0, 4, False)
    assert _apply(participant, reasoning="   ")  # a choice but a blank explanation is not an answer yet
    assert answers_progress(participant_id=participant.pk, position=1).answered == 0
    assert _apply(participant)
    progress = answers_progress(participant_id=participant.pk, position=1)
    assert (progress.answered, progress.total, progress.saved, progress.percent) == (1, 4, True, 25)
    Answer.objects.filter(participant=participant).delete()  # no answers at all still knows the total
    assert answers_progress(participant_id=participant.pk).total == 4


def test_the_change_returns_the_progress_a_separate_read_would_give() -> None:
    """On PostgreSQL the progress rides in the UPDATE's statement, which sees the answers as they were before the
    change: the changed answer's new values must still be the ones counted."""
    study = study_make(personas=1, k=1, n=3, checks=0)
    participant, _answer = _shown(study, "sql-returned")
    for question in questions_for(participant=participant)[1:]:
        answer_open(participant=participant, question=question)
    steps = [
        (1, {"reasoning": ""}),  # a choice alone: saved, not yet answered
        (1, {}),  # now answered
        (2, {"letter": None, "reasoning": "Only words so far."}),
        (2, {"letter": "B"}),
        (3, {"elapsed_ms": 0, "letter": None, "reasoning": None}),  # nothing changes: not "saved"
        (1, {"letter": "B"}),  # a revision of an answered question
    ]
    for position, change in steps:
        returned = _apply(participant, position=position, **change)
        assert returned == answers_progress(participant_id=participant.pk, position=position), (position, change)
    assert (returned.answered, returned.total) == (2, 3)
    assert _apply(participant, position=3, letter="C") is None
