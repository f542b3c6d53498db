"""The final submit and a save from another tab, racing on PostgreSQL: what is checked is what is submitted."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from annotation.models import Answer, Participant
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_change_apply, answer_open, answer_save
from annotation.services.slots import participant_enter
from tests.annotation.factories import study_make

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _ready_participant() -> Participant:
    study = study_make(personas=1, k=1, n=2, checks=0)
    participant = participant_enter(study=study, pid="race1", study_param="S", session_param="race1").participant
    for question in questions_for(participant=participant):
        answer_open(participant=participant, question=question)
        change = AnswerChange(letter="A", reasoning="A complete explanation.")
        answer_save(
            participant_id=participant.pk, study_public_id=study.public_id, position=question.position, change=change
        )
    return participant


def test_a_save_waiting_behind_the_submit_writes_nothing() -> None:
    participant = _ready_participant()
    settings = connection.settings_dict
    submitter = psycopg.connect(
        dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"]
    )
    try:
        # The submit's transaction, held open: participant row locked for update and marked submitted.
        submitter.execute("SELECT id FROM annotation_participant WHERE id = %s FOR UPDATE", [participant.pk])
        submitter.execute("UPDATE annotation_participant SET status = 'submitted' WHERE id = %s", [participant.pk])
        outcome: list[object] = []

        def save_from_another_tab() -> None:
            try:
                change = AnswerChange(letter="B", reasoning="")  # would leave the first answer incomplete
                outcome.append(
                    answer_change_apply(
                        participant_id=participant.pk,
                        study_public_id=participant.study.public_id,
                        position=1,
                        change=change,
                    )
                )
            finally:
                connection.close()

        saver = threading.Thread(target=save_from_another_tab)
        saver.start()
        time.sleep(0.5)
        waited = saver.is_alive()
        submitter.commit()
        saver.join(timeout=10)
    finally:
        submitter.close()  # never leave the lock behind: the test database's flush would wait on it
    assert waited, "the save must wait for the submit's lock"
    assert outcome == [None]  # refused: nothing written
    first = Answer.objects.get(participant=participant, question__position=1)
    assert (first.letter, first.reasoning) == ("A", "A complete explanation.")
