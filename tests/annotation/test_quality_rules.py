"""Quality flags live twice: in Python (``answer_flags`` / ``answer_tally``, for one participant's loaded answers on
their review page) and in the database (``answer_tallies``, one grouped query for a page of participants, the
dashboard and the exports). One table of cases drives both, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from annotation.models import Answer, Participant
from annotation.selectors import questions_for
from annotation.services.review import (
    Flag,
    answer_tallies,
    answer_tally,
    participant_flags,
    participant_quality,
    participants_quality,
)
from annotation.services.slots import participant_enter
from benchmarks.judging.models import Order
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db

LONG = "Because of who they are and what they need."


@dataclass(frozen=True)
class A:
    """One answer: choice ("" = opened, not answered), reason, time on the question, pasted."""

    choice: str = "chosen"
    reasoning: str = LONG
    time_ms: int = 9000
    pasted: bool = False


def _distinct(n: int) -> list[A]:
    return [A(reasoning=f"{LONG} Reason number {i}.") for i in range(n)]


# The four pair questions, then the attention check. ``flags``: what the participant must show.
CASES: dict[str, tuple[list[A], bool, set[str]]] = {
    "clean": ([*_distinct(4), A(reasoning="check")], False, set()),
    "half too fast": (
        [A(time_ms=4999, reasoning="a " + LONG), A(time_ms=100, reasoning="b " + LONG), *_distinct(2)],
        False,
        {Flag.TOO_FAST},
    ),
    "one of four fast": ([A(time_ms=10, reasoning="a " + LONG), *_distinct(3)], False, set()),
    "time not reported is not fast": ([A(time_ms=0, reasoning=f"{i} {LONG}") for i in range(4)], False, set()),
    "fast but unanswered": ([A(choice="", time_ms=10, reasoning=""), *_distinct(1)], False, set()),
    "short reason": ([A(reasoning="nineteen characters"), *_distinct(3)], False, {Flag.SHORT}),
    "twenty characters is not short": ([A(reasoning="twenty characters!!!"), *_distinct(3)], False, set()),
    "short once blanks are trimmed": (
        [A(reasoning="\t\n  fifteen chars.  \r\n\x0b\x0c"), *_distinct(3)],
        False,
        {Flag.SHORT},
    ),
    "a no-break space is not a blank": (
        [A(reasoning="\xa0" * 10 + "ten chars!" + "\xa0" * 10), *_distinct(3)],
        False,
        set(),
    ),
    "blank reason with a choice": ([A(reasoning=" \n\t "), *_distinct(3)], False, {Flag.SHORT}),
    "short but unanswered": ([A(choice="", reasoning="tiny"), *_distinct(3)], False, set()),
    "repeated, case and blanks aside": (
        [A(reasoning=f"  {LONG.upper()}\n"), A(reasoning=f"\t{LONG}"), *_distinct(2)],
        False,
        {Flag.REPEATED},
    ),
    "only ASCII letters fold": (
        [A(reasoning="Über alles, weil sie es so mag."), A(reasoning="über alles, weil sie es so mag."), *_distinct(2)],
        False,
        set(),
    ),
    "repeated non-ASCII": (
        [A(reasoning="Ünïcödé reasons, all the same"), A(reasoning="Ünïcödé reasons, all the same"), *_distinct(2)],
        False,
        {Flag.REPEATED},
    ),
    "repeated only where unanswered": (
        [A(choice="", reasoning=LONG), A(choice="", reasoning=LONG), *_distinct(2)],
        False,
        set(),
    ),
    "repeated blanks are not a repeat": ([A(reasoning="  "), A(reasoning="\n"), *_distinct(2)], False, {Flag.SHORT}),
    "the check's word repeats a reason": (
        [A(reasoning="check"), *_distinct(3), A(reasoning="check")],
        False,
        {Flag.SHORT},
    ),
    "pasted, even unanswered": ([A(choice="", reasoning="", pasted=True), *_distinct(3)], False, {Flag.PASTED}),
    "failed check": ([*_distinct(4), A(choice="rejected", reasoning="check")], False, {Flag.FAILED_CHECK}),
    "failed check at entry": ([], True, {Flag.FAILED_CHECK}),
    "no answers": ([], False, set()),
    "everything": (
        [
            A(time_ms=10, reasoning="dup", pasted=True),
            A(time_ms=10, reasoning="DUP"),
            *_distinct(2),
            A(choice="rejected", reasoning="check", time_ms=10),
        ],
        False,
        {Flag.TOO_FAST, Flag.SHORT, Flag.PASTED, Flag.REPEATED, Flag.FAILED_CHECK},
    ),
}


def _participant(answers: list[A], failed_check: bool) -> Participant:
    study = study_make(personas=1, k=1, n=4, checks=1, reasoning_min_chars=5)
    participant = participant_enter(study=study, pid="rules", study_param="S", session_param="T").participant
    questions = questions_for(participant=participant)
    ordered = sorted(questions, key=lambda q: q.is_attention)  # the four pairs, then the check
    for question, answer in zip(ordered, answers, strict=False):
        Answer.objects.create(
            participant=participant,
            question=question,
            order_shown=Order.CHOSEN_FIRST,
            choice=answer.choice,
            reasoning=answer.reasoning,
            time_ms=answer.time_ms,
            pasted=answer.pasted,
        )
    Participant.objects.filter(pk=participant.pk).update(failed_attention_check=failed_check)
    return Participant.objects.select_related("study").get(pk=participant.pk)


@pytest.mark.parametrize("name", CASES)
def test_python_and_sql_agree_on_every_case(name: str) -> None:
    answers, failed_check, expected = CASES[name]
    participant = _participant(answers, failed_check)
    loaded = list(participant.answers.select_related("question").order_by("question__position"))

    in_python = answer_tally(answers=loaded, study=participant.study)
    in_sql = answer_tallies(answers=Answer.objects.filter(participant=participant), study=participant.study)
    assert in_sql.get(participant.pk, type(in_python)()) == in_python

    assert set(participant_quality(participant=participant, answers=loaded).flags) == expected
    (listed,) = participants_quality(study=participant.study)
    assert set(listed.flags) == expected
    assert listed.flags == participant_flags(tally=in_python, failed_attention_check=failed_check)
