"""The participant pages' reads in plain SQL: who the session's participant is, and the question on screen.

Every participant page starts with the first read, and each question page adds the second, so in a live study they
run about as often as the saves. As ORM queries (select_related and an Exists) Django spent 1-2 ms compiling each
one and a quarter of that running it; written once here they cost the running alone. ``core.rows`` turns the rows
into the same model instances, related objects cached, that select_related would have given.
"""

from __future__ import annotations

from functools import cache
from uuid import UUID

from django.db import connection

from annotation.models import Answer, Participant, Question, Slot, Study, StudyPersona
from benchmarks.models import PreferencePair, Prompt
from core.rows import cache_related, instance_from, select_list, table
from personas.models import Persona


@cache
def _session_participant_sql() -> str:
    # The last column says whether the participant holds a slot (participant_holds_slot reads it).
    return f"""
SELECT {select_list(Participant, "p")}, {select_list(Study, "st")}, {select_list(StudyPersona, "sp")},
       {select_list(Persona, "pe")}, EXISTS (SELECT 1 FROM {table(Slot)} sl WHERE sl.holder_id = p.id)
FROM {table(Participant)} p
JOIN {table(Study)} st ON st.id = p.study_id
LEFT JOIN {table(StudyPersona)} sp ON sp.id = p.study_persona_id
LEFT JOIN {table(Persona)} pe ON pe.id = sp.persona_id
WHERE p.id = %s AND st.public_id = %s
"""


def session_participant(*, study_public_id: UUID, participant_id: int) -> Participant | None:
    """A session's participant in a study, with the study, the persona shown and whether they hold a slot."""
    public_id = Study._meta.get_field("public_id").get_db_prep_value(study_public_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(_session_participant_sql(), [participant_id, public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    participant, at = instance_from(Participant, row, 0)
    study, at = instance_from(Study, row, at)
    study_persona, at = instance_from(StudyPersona, row, at)
    persona, at = instance_from(Persona, row, at)
    cache_related(participant, "study", study)
    cache_related(participant, "study_persona", study_persona)
    if study_persona is not None:
        cache_related(study_persona, "persona", persona)
    participant.holds_slot = bool(row[at])  # type: ignore[attr-defined]
    return participant


@cache
def _question_sql() -> str:
    return f"""
SELECT {select_list(Question, "q")}, {select_list(PreferencePair, "pp")}, {select_list(Prompt, "pr")},
       {select_list(Answer, "a")}
FROM {table(Question)} q
LEFT JOIN {table(PreferencePair)} pp ON pp.id = q.pair_id
LEFT JOIN {table(Prompt)} pr ON pr.id = pp.prompt_id
LEFT JOIN {table(Answer)} a ON a.question_id = q.id AND a.participant_id = %s
WHERE q.study_persona_id = %s AND q.position = %s
"""


def question_with_answer(*, participant: Participant, position: int) -> tuple[Question | None, Answer | None]:
    """The participant's question at ``position`` (with its pair and prompt) and their answer to it, if any yet."""
    with connection.cursor() as cursor:
        cursor.execute(_question_sql(), [participant.pk, participant.study_persona_id, position])
        row = cursor.fetchone()
    if row is None:
        return None, None
    question, at = instance_from(Question, row, 0)
    pair, at = instance_from(PreferencePair, row, at)
    prompt, at = instance_from(Prompt, row, at)
    answer, _ = instance_from(Answer, row, at)
    cache_related(question, "pair", pair)
    if pair is not None:
        cache_related(pair, "prompt", prompt)
    if answer is not None:
        cache_related(answer, "question", question)
        cache_related(answer, "participant", participant)
    return question, answer
