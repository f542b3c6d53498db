"""A study's items as judges and reports see them: one per pair question (attention checks are not items)."""

from __future__ import annotations

from dataclasses import dataclass

from annotation.models import Question, Study


@dataclass(frozen=True)
class StudyItem:
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
