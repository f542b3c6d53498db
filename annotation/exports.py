"""Study exports: every answer (CSV / JSONL) and the per-question majority (CSV). Preview runs are never exported."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from itertools import groupby
from operator import attrgetter
from typing import Any

from annotation.models import Answer, Participant, Question, Study
from annotation.services.review import AnswerTally, answer_flags, answer_tallies, participant_flags, study_majorities
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


def answer_rows(*, study: Study, include_pid: bool) -> Iterator[dict[str, Any]]:
    """Every answer of the study's raters (previews left out), by persona, participant and question.

    Streams: the answers come through a cursor ``EXPORT_CHUNK_ROWS`` at a time and leave one participant at a time,
    so memory stays flat in the number of answers (a study's questions and participants are held, a few hundred
    small rows). Each answer loads only the columns the row shows: a download runs in a web worker beside the
    participants' saves, and the full models (the pair's texts, the persona's attributes, every timestamp) cost it
    six times the CPU.
    """
    questions = {
        q.pk: q
        for q in Question.objects.filter(study_persona__study=study)
        .select_related("study_persona__persona", "pair")
        .only("kind", "position", "pair_id", "study_persona__position", "study_persona__persona__public_id",
              "pair__prompt_id")
    }  # fmt: skip
    participants = {
        p.pk: p
        for p in Participant.objects.filter(study=study, is_preview=False).only(
            "study_id", "prolific_pid", "status", "review", "failed_attention_check", "submitted_at"
        )
    }
    exported = Answer.objects.filter(participant__study=study, participant__is_preview=False)
    tallies = answer_tallies(answers=exported, study=study)  # one grouped query: a small row per participant
    answers = (
        exported.only(*_ANSWER_COLUMNS)
        .order_by("question__study_persona__position", "participant_id", "question__position")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
    # A participant's answers are adjacent: all their questions belong to the persona they were given.
    for participant_id, answered in groupby(answers, key=attrgetter("participant_id")):
        participant = participants[participant_id]
        participant.study = study
        group = list(answered)
        for answer in group:
            answer.participant, answer.question = participant, questions[answer.question_id]
        flags = participant_flags(
            tally=tallies.get(participant_id, AnswerTally()),
            failed_attention_check=participant.failed_attention_check,
        )
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
                "participant_flags": flags,
                "first_shown_at": answer.first_shown_at.isoformat(),
                "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
                "submitted_at": participant.submitted_at.isoformat() if participant.submitted_at else None,
            }


_ANSWER_COLUMNS = (
    "participant_id", "question_id", "order_shown", "choice", "reasoning", "time_ms", "revisions", "pasted",
    "first_shown_at", "updated_at",
)  # fmt: skip


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
