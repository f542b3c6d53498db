"""answers.csv / answers.jsonl stream (a 400-participant study's export must not hold every answer in memory)
and say byte for byte what they said before.

``_answer_rows_before`` is the export as it was before it streamed (every answer loaded with its participant,
study, question, persona and pair models, grouped in a dict): the new one must write the same bytes from it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from annotation.exports import ANSWER_FIELDS, answer_rows, chunked, csv_lines, jsonl_lines
from annotation.models import Answer, Participant, Study
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_open, answer_save
from annotation.services.review import answer_flags, participant_quality, participant_review_set
from annotation.services.slots import participant_enter, participant_release, preview_participant_start
from tests.annotation.factories import participant_complete, study_make
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _answer_rows_before(*, study: Study, include_pid: bool) -> Iterator[dict[str, Any]]:
    answers = (
        Answer.objects.filter(participant__study=study, participant__is_preview=False)
        .select_related("participant__study", "question__study_persona__persona", "question__pair")
        .order_by("question__study_persona__position", "participant_id", "question__position")
    )
    by_participant: dict[int, list[Answer]] = {}
    for answer in answers:
        by_participant.setdefault(answer.participant_id, []).append(answer)
    for group in by_participant.values():
        participant = group[0].participant
        participant_flags = participant_quality(participant=participant, answers=group).flags
        for answer in group:
            question = answer.question
            yield {
                "study_id": study.pk,
                "persona_public_id": str(question.study_persona.persona.public_id),
                "persona_position": question.study_persona.position,
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


@pytest.fixture
def varied_study() -> Study:
    """Three personas, k=3, 3 pairs + 1 check, and raters in every state an export meets: submitted (chosen,
    rejected, a formula and a multi-line quoted reason, too fast), excluded by review, a failed check, one who
    returned half-way, one still answering with a blank answer, and a coordinator's preview (never exported)."""
    study = study_make(personas=3, k=3, n=3, checks=1)
    participant_complete(study, "good0", pick="chosen", reasoning='They\'d say "yes", then\nexplain; at length.')
    participant_complete(study, "good1", pick="rejected", reasoning="=SUM(A1:A9) is how they think", elapsed_ms=900)
    participant_complete(study, "fast0", pick="chosen", reasoning="short", elapsed_ms=100)
    excluded = participant_complete(study, "excl0", pick="rejected", reasoning="Ünïcödé reasons, all the same")
    participant_review_set(participant=excluded, decision="excluded", note="rushed")
    failed = participant_complete(study, "fail0", pick="chosen")
    Participant.objects.filter(pk=failed.pk).update(failed_attention_check=True)
    for pid, release in (("gone0", True), ("busy0", False)):
        participant = participant_enter(study=study, pid=pid, study_param="PS", session_param=f"s-{pid}").participant
        first, second, *_ = questions_for(participant=participant)
        answer_open(participant=participant, question=first)
        answer_save(
            participant_id=participant.pk,
            study_public_id=study.public_id,
            position=first.position,
            change=AnswerChange(letter="B", reasoning="pasted text", pasted=True, elapsed_ms=7000),
        )
        answer_open(participant=participant, question=second)  # shown, never answered
        if release:
            participant_release(participant=participant, status=Participant.Status.RETURNED)
    preview = preview_participant_start(
        study=study, user=UserFactory(), study_persona=study.study_personas.order_by("position").first()
    )
    answer_open(participant=preview, question=questions_for(participant=preview)[0])
    return study


@pytest.mark.parametrize("include_pid", [True, False])
def test_answer_exports_are_byte_identical_to_before(varied_study: Study, include_pid: bool) -> None:
    before = list(_answer_rows_before(study=varied_study, include_pid=include_pid))
    after = list(answer_rows(study=varied_study, include_pid=include_pid))
    assert len(after) == Answer.objects.filter(participant__study=varied_study, participant__is_preview=False).count()
    assert after == before
    for lines in (lambda rows: csv_lines(iter(rows), ANSWER_FIELDS), lambda rows: jsonl_lines(iter(rows))):
        assert "".join(chunked(lines(after), size=100)) == "".join(lines(before))


def test_downloads_parse_and_match_before(varied_study: Study, coordinator: object) -> None:
    client = Client()
    client.force_login(coordinator)
    url = lambda name: reverse("study-export", args=[varied_study.pk, name])  # noqa: E731
    body = b"".join(client.get(url("answers.csv")).streaming_content).decode()
    before = "".join(csv_lines(_answer_rows_before(study=varied_study, include_pid=True), ANSWER_FIELDS))
    assert body == before
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["prolific_pid"] for r in rows} == {"good0", "good1", "fast0", "excl0", "fail0", "gone0", "busy0"}
    assert any("\n" in r["reasoning"] for r in rows)
    assert any(r["reasoning"].startswith("'=SUM") for r in rows)
    jsonl = b"".join(client.get(url("answers.jsonl")).streaming_content).decode()
    assert jsonl == "".join(jsonl_lines(_answer_rows_before(study=varied_study, include_pid=True)))
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert [r["participant_id"] for r in records] == [int(r["participant_id"]) for r in rows]
    assert any(r["answer_flags"] for r in records)


def test_chunked_joins_lines_into_pieces_of_about_the_size() -> None:
    lines = [f"{i:04d}\n" for i in range(100)]  # 5 characters each
    pieces = list(chunked(iter(lines), size=50))
    assert "".join(pieces) == "".join(lines)
    assert [len(p) for p in pieces] == [50] * 10
    assert list(chunked(iter([]))) == []
