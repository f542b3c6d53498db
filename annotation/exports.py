"""Study exports: every answer (CSV / JSONL) and the per-question majority (CSV). Preview runs are never exported."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from itertools import groupby
from operator import attrgetter
from typing import Any, Generic, TypeVar

from django.db.models import F

from annotation.models import Answer, Participant, Question, Study
from annotation.services.review import answer_flags, participant_quality, study_majorities
from core.csv_export import CsvDictWriter

ANSWER_FIELDS = [
    "study_id",
    "persona_public_id",
    "persona_position",
    "participant_id",
    "prolific_pid",
    "participant_status",
    "review",
    "question_position",
    "question_kind",
    "pair_id",
    "prompt_id",
    "order_shown",
    "letter",
    "choice",
    "reasoning",
    "time_ms",
    "revisions",
    "pasted",
    "answer_flags",
    "participant_flags",
    "first_shown_at",
    "updated_at",
    "submitted_at",
]
MAJORITY_FIELDS = [
    "study_id",
    "persona_public_id",
    "persona_position",
    "question_position",
    "pair_id",
    "prompt_id",
    "raters",
    "chosen_votes",
    "rejected_votes",
    "threshold",
    "majority",
    "tie",
    "outcome",
]


def _persona_columns(study: Study, question: Question) -> dict[str, Any]:
    """The columns every export row starts with: the study and the persona the question was asked for."""
    return {
        "study_id": study.pk,
        "persona_public_id": str(question.study_persona.persona.public_id),
        "persona_position": question.study_persona.position,
    }


EXPORT_CHUNK_ROWS = 1000  # answers fetched per round trip (a server-side cursor on PostgreSQL)
EXPORT_CHUNK_BYTES = 64 * 1024  # lines joined into one write to the socket
T = TypeVar("T")


class _PersonaRows(Generic[T]):
    """The rows of a cursor sorted by persona position, handed out one persona at a time (a merge join)."""

    def __init__(self, rows: Iterator[T]) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def take(self, position: int) -> list[T]:
        """This persona's rows; those of personas before it (that the other side did not need) are passed over."""
        taken = []
        while self._next is not None and self._next.persona_position <= position:  # type: ignore[attr-defined]
            if self._next.persona_position == position:  # type: ignore[attr-defined]
                taken.append(self._next)
            self._next = next(self._rows, None)
        return taken


def answer_rows(*, study: Study, include_pid: bool) -> Iterator[dict[str, Any]]:
    """Every answer of the study's raters (previews left out), by persona, participant and question.

    Streams: the answers, the questions and the participants come through three cursors ``EXPORT_CHUNK_ROWS`` at a
    time, all in persona order, and leave one participant at a time, so memory stays flat in the size of the study
    (one persona's questions and raters are held). Each row loads only the columns it shows: a download runs in a
    web worker beside the participants' saves, and the full models (the pair's texts, the persona's attributes,
    every timestamp) cost it six times the CPU.
    """
    questions = _PersonaRows(
        Question.objects.filter(study_persona__study=study)
        .select_related("study_persona__persona", "pair")
        .only(
            "kind",
            "position",
            "pair_id",
            "study_persona__position",
            "study_persona__persona__public_id",
            "pair__prompt_id",
        )
        .annotate(persona_position=F("study_persona__position"))
        .order_by("study_persona__position", "position")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
    participants = _PersonaRows(
        Participant.objects.filter(study=study, is_preview=False, study_persona__isnull=False)
        .only("study_id", "prolific_pid", "status", "review", "failed_attention_check", "submitted_at")
        .annotate(persona_position=F("study_persona__position"))
        .order_by("study_persona__position", "id")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
    answers = (
        Answer.objects.filter(participant__study=study, participant__is_preview=False)
        .only(*_ANSWER_COLUMNS)
        .annotate(persona_position=F("question__study_persona__position"))
        .order_by("question__study_persona__position", "participant_id", "question__position")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
    persona_questions: dict[int, Question] = {}
    raters: dict[int, Participant] = {}
    current = None
    # A participant's answers are adjacent: all their questions belong to the persona they were given.
    for (position, participant_id), answered in groupby(answers, key=attrgetter("persona_position", "participant_id")):
        if position != current:
            persona_questions = {q.pk: q for q in questions.take(position)}
            raters = {p.pk: p for p in participants.take(position)}
            current = position
        participant = raters[participant_id]
        participant.study = study
        group = list(answered)
        for answer in group:
            answer.participant, answer.question = participant, persona_questions[answer.question_id]
        participant_flags = participant_quality(participant=participant, answers=group).flags
        for answer in group:
            question = answer.question
            yield {
                **_persona_columns(study, question),
                "participant_id": participant.pk,
                "prolific_pid": participant.prolific_pid if include_pid else "",
                "participant_status": participant.status,
                "review": participant.review,
                "question_position": question.position,
                "question_kind": question.kind,
                "pair_id": question.pair_id,
                "prompt_id": question.pair.prompt_id if question.pair_id else None,
                "order_shown": answer.order_shown,
                "letter": answer.letter,
                "choice": answer.choice,
                "reasoning": answer.reasoning,
                "time_ms": answer.time_ms,
                "revisions": answer.revisions,
                "pasted": answer.pasted,
                "answer_flags": answer_flags(answer=answer, study=study),
                "participant_flags": participant_flags,
                "first_shown_at": answer.first_shown_at.isoformat(),
                "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
                "submitted_at": participant.submitted_at.isoformat() if participant.submitted_at else None,
            }


_ANSWER_COLUMNS = (
    "participant_id",
    "question_id",
    "order_shown",
    "choice",
    "reasoning",
    "time_ms",
    "revisions",
    "pasted",
    "first_shown_at",
    "updated_at",
)


def majority_rows(*, study: Study) -> Iterator[dict[str, Any]]:
    for item in study_majorities(study=study):
        question = item.question
        yield {
            **_persona_columns(study, question),
            "question_position": question.position,
            "pair_id": question.pair_id,
            "prompt_id": question.pair.prompt_id,
            "raters": item.raters,
            "chosen_votes": item.result.chosen_votes,
            "rejected_votes": item.result.rejected_votes,
            "threshold": item.result.threshold,
            "majority": item.result.label,
            "tie": item.result.tie,
            "outcome": item.result.outcome,  # the report's words: "tie", "no majority: 1 rater", …
        }


def csv_lines(rows: Iterator[dict[str, Any]], fields: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = CsvDictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def jsonl_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def chunked(lines: Iterator[str], *, size: int = EXPORT_CHUNK_BYTES) -> Iterator[str]:
    """The lines joined into pieces of about ``size`` characters: a streamed download is written to the socket a
    piece at a time rather than a syscall per row."""
    pending: list[str] = []
    length = 0
    for line in lines:
        pending.append(line)
        length += len(line)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)
