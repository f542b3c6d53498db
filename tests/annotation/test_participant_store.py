"""The participant pages' plain-SQL reads and save: the same model instances the ORM would give, and a save that
writes only what the session's participant may write (on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant, Question, Slot, SlotStatus
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_change_apply, answer_open
from annotation.services.participant_store import Progress, answers_progress, question_with_answer, session_participant
from annotation.services.slots import participant_enter
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db


def _fields(instance: Model) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _entered(client: Client, *, checks: int = 0) -> Participant:
    study = study_make(personas=2, k=1, n=2, checks=checks)
    client.get(
        reverse("participant-entry", args=[study.public_id]),
        {"PROLIFIC_PID": "pid-page", "STUDY_ID": "s", "SESSION_ID": "t"},
    )
    return Participant.objects.get()


def test_session_participant_matches_the_orm_with_its_relations_cached(django_assert_num_queries: object) -> None:
    participant = _entered(Client())
    study = participant.study
    expected = Participant.objects.select_related("study", "study_persona__persona").get(pk=participant.pk)
    with django_assert_num_queries(1):  # type: ignore[operator]
        session = session_participant(study_public_id=study.public_id, participant_id=participant.pk)
        assert session is not None
        found = session.participant
        assert _fields(found) == _fields(expected)
        assert _fields(found.study) == _fields(expected.study)  # UUIDs, datetimes, booleans converted
        assert _fields(found.study_persona) == _fields(expected.study_persona)
        assert found.study_persona.persona.attributes == expected.study_persona.persona.attributes  # JSON decoded
        assert _fields(found.study_persona.persona) == _fields(expected.study_persona.persona)
        assert (session.holds_slot, session.holds_place, session.released) == (True, True, False)
    assert found._state.adding is False
    assert found._state.db == "default"


def test_session_participant_refuses_another_study_and_reports_a_released_slot() -> None:
    participant = _entered(Client())
    other = study_make(personas=1, k=1, n=1)
    assert session_participant(study_public_id=other.public_id, participant_id=participant.pk) is None
    assert session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk + 99) is None
    Slot.objects.filter(holder=participant).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
    session = session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk)
    assert session is not None
    assert (session.holds_slot, session.holds_place, session.released) == (False, False, True)


def test_session_participant_without_a_persona_caches_none() -> None:
    participant = _entered(Client())
    Slot.objects.filter(holder=participant).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
    Participant.objects.filter(pk=participant.pk).update(study_persona=None)
    session = session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk)
    assert session is not None
    assert session.participant.study_persona is None


def test_question_with_answer_matches_the_orm(django_assert_num_queries: object) -> None:
    client = Client()
    participant = _entered(client, checks=1)
    positions = Question.objects.filter(study_persona=participant.study_persona).values_list("position", flat=True)
    for position in positions:
        question, answer = question_with_answer(participant=participant, position=position)
        expected = Question.objects.select_related("pair__prompt").get(
            study_persona=participant.study_persona, position=position
        )
        assert _fields(question) == _fields(expected)
        assert answer is None  # not shown yet
        with django_assert_num_queries(0):  # type: ignore[operator]
            assert question.prompt_text == expected.prompt_text  # pair and prompt came with it (or None: a check)
            assert (question.chosen_text, question.rejected_text) == (expected.chosen_text, expected.rejected_text)
        client.get(reverse("participant-question", args=[participant.study.public_id, position]))
        question, answer = question_with_answer(participant=participant, position=position)
        assert _fields(answer) == _fields(Answer.objects.get(participant=participant, question=question))
    assert question_with_answer(participant=participant, position=99) == (None, None)


def test_another_participants_answer_is_never_joined() -> None:
    client = Client()
    participant = _entered(client)
    client.get(reverse("participant-question", args=[participant.study.public_id, 1]))
    # A second participant on the other persona has no answer at their position 1 yet.
    other_client = Client()
    other_client.get(
        reverse("participant-entry", args=[participant.study.public_id]),
        {"PROLIFIC_PID": "pid-other", "STUDY_ID": "s", "SESSION_ID": "t"},
    )
    other = Participant.objects.get(prolific_pid="pid-other")
    assert question_with_answer(participant=other, position=1)[1] is None


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
    "case", ["other study", "unknown study", "no row yet", "no such position"]
)  # the save's rules themselves: tests/annotation/test_save_rules.py
def test_a_change_aimed_elsewhere_writes_nothing(case: str) -> None:
    study = study_make(personas=1, k=2, n=2)
    other_study = study_make(personas=1, k=1, n=2)
    participant, answer = _shown(study, "sql-me")
    _shown(study, "sql-other")  # another participant's rows must stay as they are too
    kwargs: dict[str, object] = {}
    if case == "other study":
        kwargs["study_public_id"] = other_study.public_id
    elif case == "unknown study":
        kwargs["study_public_id"] = uuid.uuid4()
    elif case == "no row yet":
        kwargs["position"] = 2
    elif case == "no such position":
        kwargs["position"] = 99
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
