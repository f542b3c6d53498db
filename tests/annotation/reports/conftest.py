from __future__ import annotations

import pytest

from annotation.models import Answer, Question, Study
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_open, answer_save, participant_submit
from annotation.services.slots import participant_enter
from benchmarks.judging.models import Judge, Judgment, Order
from benchmarks.judging.services import judge_upsert
from core.llm.endpoints import endpoint_upsert
from tests.annotation.factories import study_make

C, R = "chosen", "rejected"
# One persona, four pair questions, three raters (majority: 2 votes).
HUMANS = {"r1": [C, C, R, R], "r2": [C, R, R, C], "r3": [C, C, R, C]}
# A judge's replies per order, and the confidence it gave (mean over the two orders: 90, 50, 80, 50).
JUDGE_AB = [C, C, R, R]
JUDGE_BA = [C, R, R, R]
CONF_AB = [90, 50, 80, 70]
CONF_BA = [90, 50, 80, 30]


def rater_complete(study: Study, pid: str, picks: list[str]) -> object:
    """Enter, answer the i-th pair question (by position) with picks[i], pass the checks, submit."""
    participant = participant_enter(study=study, pid=pid, study_param="S", session_param=f"s-{pid}").participant
    pair_questions = [q for q in questions_for(participant=participant) if not q.is_attention]
    pair_questions.sort(key=lambda q: q.position)
    wanted = {q.pk: picks[i] for i, q in enumerate(pair_questions)}
    for question in questions_for(participant=participant):
        answer = answer_open(participant=participant, question=question)
        pick = "chosen" if question.is_attention else wanted[question.pk]
        letter = "A" if (pick == "chosen") == (answer.order_shown == Order.CHOSEN_FIRST) else "B"
        answer_save(
            participant_id=participant.pk,
            study_public_id=participant.study.public_id,
            position=question.position,
            change=AnswerChange(letter=letter, reasoning="Reasons given."),
        )
    participant_submit(participant=participant)
    return participant


def judge_store(study: Study, name: str = "hand-judge") -> Judge:
    endpoint, _ = endpoint_upsert(name=f"{name}-endpoint", provider="offline", model="always_a")
    judge = judge_upsert(name=name, endpoint=endpoint)
    questions = Question.objects.filter(study_persona__study=study, kind="pair").order_by(
        "study_persona__position", "position"
    )
    for i, question in enumerate(questions):
        for order, picks, confidence in (("AB", JUDGE_AB, CONF_AB), ("BA", JUDGE_BA, CONF_BA)):
            Judgment.objects.create(
                judge=judge,
                persona_id=question.study_persona.persona_id,
                pair_id=question.pair_id,
                order=order,
                choice=picks[i],
                confidence=confidence[i],
            )
    return judge


@pytest.fixture
def hand_study(db: None) -> Study:
    study = study_make(personas=1, k=3, n=4, checks=0)
    study.majority_threshold = 2
    Study.objects.filter(pk=study.pk).update(majority_threshold=2)
    for pid, picks in HUMANS.items():
        rater_complete(study, pid, picks)
    judge_store(study)
    assert Answer.objects.filter(participant__study=study).count() == 12
    return study
