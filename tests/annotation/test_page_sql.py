"""The participant pages' plain-SQL reads give the same model instances the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant, Question, Slot, SlotStatus
from annotation.services.page_sql import question_with_answer, session_participant
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
        found = session_participant(study_public_id=study.public_id, participant_id=participant.pk)
        assert found is not None
        assert _fields(found) == _fields(expected)
        assert _fields(found.study) == _fields(expected.study)  # UUIDs, datetimes, booleans converted
        assert _fields(found.study_persona) == _fields(expected.study_persona)
        assert found.study_persona.persona.attributes == expected.study_persona.persona.attributes  # JSON decoded
        assert _fields(found.study_persona.persona) == _fields(expected.study_persona.persona)
        assert found.holds_slot is True
    assert found._state.adding is False
    assert found._state.db == "default"


def test_session_participant_refuses_another_study_and_reports_a_released_slot() -> None:
    participant = _entered(Client())
    other = study_make(personas=1, k=1, n=1)
    assert session_participant(study_public_id=other.public_id, participant_id=participant.pk) is None
    assert session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk + 99) is None
    Slot.objects.filter(holder=participant).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
    found = session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk)
    assert found is not None
    assert found.holds_slot is False


def test_session_participant_without_a_persona_caches_none() -> None:
    participant = _entered(Client())
    Slot.objects.filter(holder=participant).update(holder=None, status=SlotStatus.FREE, reserved_at=None)
    Participant.objects.filter(pk=participant.pk).update(study_persona=None)
    found = session_participant(study_public_id=participant.study.public_id, participant_id=participant.pk)
    assert found is not None
    assert found.study_persona is None


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
