"""The save's rules live twice: in Python (``answer_change_refusal``, which gives the participant the reason) and in
the SQL of the hot path's UPDATE (``participant_store.answer_update``). One table of cases drives both, so they
cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from annotation.models import Answer, Participant, Slot, SlotStatus
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_change_apply, answer_change_refusal, answer_open
from annotation.services.slots import participant_enter, preview_participant_start
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db

MAX_CHARS = 40


@dataclass(frozen=True)
class Case:
    allowed: bool
    status: str = Participant.Status.ACTIVE
    holds_slot: bool = True
    preview: bool = False
    block_paste: bool = True
    change: dict[str, object] = field(default_factory=dict)


CASES = {
    "an ordinary change": Case(True),
    "reasoning only": Case(True, change={"letter": None}),
    "letter only": Case(True, change={"reasoning": None}),
    "time only": Case(True, change={"letter": None, "reasoning": None}),
    "letter B": Case(True, change={"letter": "B"}),
    "not a letter": Case(False, change={"letter": "C"}),
    "reasoning at the maximum": Case(True, change={"reasoning": "x" * MAX_CHARS}),
    "reasoning over the maximum": Case(False, change={"reasoning": "x" * (MAX_CHARS + 1)}),
    "reasoning with a NUL": Case(False, change={"reasoning": "because\x00"}),
    "reasoning with a lone surrogate": Case(False, change={"reasoning": "because \ud800"}),
    "pasted where blocked": Case(False, change={"pasted": True}),
    "pasted where allowed": Case(True, block_paste=False, change={"pasted": True}),
    "submitted": Case(False, status=Participant.Status.SUBMITTED),
    "returned": Case(False, status=Participant.Status.RETURNED),
    "timed out": Case(False, status=Participant.Status.TIMED_OUT),
    "slot given away": Case(False, holds_slot=False),
    "a preview holds no slot": Case(True, preview=True, holds_slot=False),
    "a submitted preview": Case(False, preview=True, holds_slot=False, status=Participant.Status.SUBMITTED),
}


def _participant(case: Case) -> Participant:
    study = study_make(personas=1, k=2, n=2, reasoning_max_chars=MAX_CHARS, block_paste=case.block_paste)
    if case.preview:
        participant = preview_participant_start(study=study, user=None, study_persona=study.study_personas.get())
    else:
        participant = participant_enter(study=study, pid="rules", study_param="S", session_param="T").participant
    answer_open(participant=participant, question=questions_for(participant=participant)[0])
    if not case.holds_slot:
        Slot.objects.filter(holder=participant).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
    Participant.objects.filter(pk=participant.pk).update(status=case.status)
    return Participant.objects.select_related("study").get(pk=participant.pk)


@pytest.mark.parametrize("name", CASES)
def test_python_and_sql_agree_on_every_case(name: str) -> None:
    case = CASES[name]
    participant = _participant(case)
    fields = {"letter": "A", "reasoning": "Because of who they are.", "elapsed_ms": 500, **case.change}
    change = AnswerChange(**fields)  # type: ignore[arg-type]
    holds_place = participant.is_preview or Slot.objects.filter(holder=participant).exists()

    refusal = answer_change_refusal(
        status=participant.status, holds_place=holds_place, study=participant.study, change=change
    )
    before = list(Answer.objects.values())
    progress = answer_change_apply(
        participant_id=participant.pk, study_public_id=participant.study.public_id, position=1, change=change
    )

    assert (refusal is None) is case.allowed, refusal
    assert (progress is not None) is case.allowed
    if not case.allowed:
        assert list(Answer.objects.values()) == before  # a refused change writes nothing
