"""Reads that pages, services and reports share: a participant's questions, a study's items, counted answers."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from annotation.models import Answer, Participant, Question, Study


def questions_for(*, participant: Participant) -> list[Question]:
    """The participant's questionnaire in order, each question with its pair and prompt."""
    return list(
        Question.objects.filter(study_persona_id=participant.study_persona_id)
        .select_related("pair__prompt")
        .order_by("position")
    )


@dataclass(frozen=True, slots=True)  # one per question (15,860 at paper scale): no __dict__ each
class StudyItem:
    """A study's item as judges and reports see it: one per pair question (attention checks are not items)."""

    question_id: int
    study_persona_id: int
    persona_id: int
    pair_id: int
    persona_position: int
    position: int


def study_items(*, study: Study) -> list[StudyItem]:
    """The study's pair questions in persona order, then question order."""
    rows = (
        Question.objects.filter(study_persona__study=study, kind=Question.Kind.PAIR)
        .order_by("study_persona__position", "position")
        .values_list(
            "pk", "study_persona_id", "study_persona__persona_id", "pair_id", "study_persona__position", "position"
        )
    )
    return [StudyItem(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Vote:
    participant_id: int
    study_persona_id: int
    question_id: int
    choice: str


def counted_votes(*, question_ids: Collection[int], chunk_size: int = 2000) -> Iterator[Vote]:
    """The choices counted raters (``Participant.objects.counted()``) made on these questions, by participant and
    question: what majorities and agreement reports are computed from. Read through a cursor ``chunk_size`` rows at
    a time (a study's 63,440 answers are never all in memory as rows)."""
    rows = (
        Answer.objects.counted()
        .filter(question_id__in=question_ids)
        .exclude(choice="")
        .order_by("participant_id", "question_id")
        .values_list("participant_id", "participant__study_persona_id", "question_id", "choice")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        yield Vote(*row)


@dataclass(frozen=True)
class PersonaVote:
    participant_id: int
    persona_position: int
    question_id: int
    choice: str


def study_votes(*, study: Study, chunk_size: int = 1000) -> Iterator[PersonaVote]:
    """The choices counted raters made on the study's pair questions, by persona position then question position,
    read through a cursor ``chunk_size`` rows at a time (for streams: memory flat in the number of answers)."""
    rows = (
        Answer.objects.counted()
        .filter(participant__study=study, question__kind=Question.Kind.PAIR)
        .exclude(choice="")
        .order_by("question__study_persona__position", "question__position", "participant_id")
        .values_list("participant_id", "question__study_persona__position", "question_id", "choice")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        yield PersonaVote(*row)
