"""What the participant pages read and write on every request, in plain SQL: the session's participant, the
question on screen, the answer save and the progress bar.

These run about once per participant request in a live study; as ORM queries Django spent longer compiling them than
the database spent running them (figures in the README's benchmark section). Everything else, first views, errors
and the final submit included, stays in the ORM. Callers get typed results (``SessionParticipant``, model instances
as ``select_related`` would give them, ``Progress``), never raw rows.

The save is one conditional UPDATE that also checks that the participant may make the change; its rules have a
Python twin, ``annotation.services.answers.answer_change_refusal``, and tests/annotation/test_save_rules.py drives
both through one table of cases. On PostgreSQL the progress read rides in the UPDATE's statement (a WITH) and the
statements are prepared once per connection (``core.rows.prepared_cursor``); SQLite, which has no UPDATE in a WITH,
runs the same UPDATE and then the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from uuid import UUID

from django.db import connection
from django.utils import timezone

from annotation.models import Answer, Participant, Question, Slot, Study, StudyPersona
from benchmarks.judging.models import Choice, Order
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.rows import cache_related, instance_from, prepared_cursor, select_list, table
from personas.models import Persona

# --- the session's participant ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionParticipant:
    """The session's participant, their study and persona loaded, and whether they hold a slot."""

    participant: Participant
    holds_slot: bool

    @property
    def study(self) -> Study:
        return self.participant.study

    @property
    def holds_place(self) -> bool:
        """A place in the study: a slot, or a preview run (which never takes one)."""
        return self.participant.is_preview or self.holds_slot

    @property
    def released(self) -> bool:
        """Returned, timed out or given away, so the pages are closed to them (a submitted participant may still
        read their answers)."""
        return self.participant.status != Participant.Status.SUBMITTED and not self.holds_place


@cache
def _session_participant_sql() -> str:
    return f"""
SELECT {select_list(Participant, "p")}, {select_list(Study, "st")}, {select_list(StudyPersona, "sp")},
       {select_list(Persona, "pe")}, EXISTS (SELECT 1 FROM {table(Slot)} sl WHERE sl.holder_id = p.id)
FROM {table(Participant)} p
JOIN {table(Study)} st ON st.id = p.study_id
LEFT JOIN {table(StudyPersona)} sp ON sp.id = p.study_persona_id
LEFT JOIN {table(Persona)} pe ON pe.id = sp.persona_id
WHERE p.id = %s AND st.public_id = %s
"""


def session_participant(*, study_public_id: UUID, participant_id: int) -> SessionParticipant | None:
    """The session's participant in this study (None when the id is not one of the study's), in one read."""
    with connection.cursor() as cursor:
        cursor.execute(_session_participant_sql(), [participant_id, _public_id(study_public_id)])
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
    return SessionParticipant(participant=participant, holds_slot=bool(row[at]))


# --- the question on screen ------------------------------------------------------------------------------------


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


# --- the progress bar ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    saved: bool  # the answer at the position asked about has been changed at least once
    complete: frozenset[int] = frozenset()  # positions with a complete answer (``Answer.answered``)
    incomplete: frozenset[int] = frozenset()  # positions shown but not complete (no choice, or too short)

    @property
    def answered(self) -> int:
        return len(self.complete)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / max(1, self.total))

    def state(self, position: int) -> str:
        """ "complete", "incomplete" (shown, not complete) or "new" (not shown yet): what the question list marks."""
        if position in self.complete:
            return "complete"
        return "incomplete" if position in self.incomplete else "new"


@cache
def _progress_from_sql() -> str:
    """The participant, their study and their answers with the answers' questions: what the progress bar reads."""
    return f"""
FROM {table(Participant)} p
JOIN {table(Study)} s ON s.id = p.study_id
LEFT JOIN {table(Answer)} a ON a.participant_id = p.id
LEFT JOIN {table(Question)} q ON q.id = a.question_id"""


@cache
def _progress_sql() -> str:
    # Every row: the questionnaire's length (as Study.questions_per_persona); then one row per answer (NULLs when
    # there is none yet), with what ``Answer.answered`` needs: the question's kind and the study's minimum.
    return f"""
SELECT s.pairs_per_persona + s.attention_checks, q.position, a.choice, a.reasoning, a.updated_at IS NOT NULL,
       q.kind, s.reasoning_min_chars
{_progress_from_sql()}
WHERE p.id = %s
"""


def answers_progress(*, participant_id: int, position: int | None = None) -> Progress:
    """Which questions are answered completely (``Answer.answered``) and which were left incomplete, from one read
    of the participant's answers."""
    with prepared_cursor() as cursor:
        cursor.execute(_progress_sql(), [participant_id])
        rows = cursor.fetchall()
    return _progress_from(rows, position)


def _progress_from(rows: list, position: int | None) -> Progress:
    """Progress from the rows of ``_progress_sql`` (questionnaire length, position, choice, reasoning, saved,
    question kind, study minimum)."""
    complete, incomplete = set(), set()
    saved = False
    for _total, at, choice, reasoning, was_saved, kind, study_min in rows:
        if at is None:
            continue
        minimum = Question.explanation_min_chars(kind=kind, study_min_chars=study_min)
        (complete if Answer.answered(choice or "", reasoning or "", min_chars=minimum) else incomplete).add(at)
        saved = saved or (at == position and was_saved)
    return Progress(
        total=rows[0][0] if rows else 0, saved=saved, complete=frozenset(complete), incomplete=frozenset(incomplete)
    )


# --- the save --------------------------------------------------------------------------------------------------


@cache
def _answer_allowed_sql(vendor: str) -> str:
    """The answer row a change may go to: the participant's question at the position, only while the participant is
    in this study, active, holding a place, and only if the change keeps the study's rules (the Python twin is
    ``answer_change_refusal``).

    On PostgreSQL the participant row is key-share locked until the save commits: the final submit locks it for
    update before it checks the answers, so no save is in flight while it checks, and a save waiting behind it
    re-reads the status and writes nothing. (SQLite runs one writer at a time, so there the submit's transaction
    alone is enough.)
    """
    lock = "FOR KEY SHARE OF p" if vendor == "postgresql" else ""
    return f"""
participant_id = %s AND question_id = (
    SELECT q.id FROM {table(Question)} q
    JOIN {table(Participant)} p ON p.study_persona_id = q.study_persona_id
    JOIN {table(Study)} s ON s.id = p.study_id
    WHERE p.id = %s AND q.position = %s AND s.public_id = %s AND p.status = %s
      AND (p.is_preview OR EXISTS (SELECT 1 FROM {table(Slot)} sl WHERE sl.holder_id = p.id))
      AND s.reasoning_max_chars >= %s AND NOT (s.block_paste AND %s)
    {lock}
)"""


def _update_with_progress_sql(update: str) -> str:
    """PostgreSQL only: the change, then the progress read, in one statement. The UPDATE's RETURNING gives the
    changed row's new values; the outer query still sees the rows as they were before it (a WITH's changes are
    invisible to its own query), so the changed answer's values are taken from RETURNING. The first column says
    whether the UPDATE matched; the rest are ``_progress_sql``'s. Choice and updated_at are never set back to NULL,
    so COALESCE is exact."""
    return f"""
WITH changed AS ({update} RETURNING id, choice, reasoning, updated_at)
SELECT (SELECT count(*) FROM changed), s.pairs_per_persona + s.attention_checks, q.position,
       COALESCE(c.choice, a.choice), COALESCE(c.reasoning, a.reasoning),
       COALESCE(c.updated_at, a.updated_at) IS NOT NULL, q.kind, s.reasoning_min_chars
{_progress_from_sql()}
LEFT JOIN changed c ON c.id = a.id
WHERE p.id = %s
"""


def answer_update(
    *,
    participant_id: int,
    study_public_id: UUID,
    position: int,
    letter: str | None,
    reasoning: str | None,
    pasted: bool,
    elapsed_ms: int,
) -> Progress | None:
    """Apply a change in one conditional UPDATE (autocommit); the participant's progress after it, or None when the
    UPDATE matched nothing.

    The statement carries every check a save needs (``_answer_allowed_sql``), so it is also the hot path's
    authorisation: None means "not like this" and the caller works out why. Revisions and ``updated_at`` move only
    when a value really changes (a replayed form changes nothing); the comparison is made in the same statement,
    against the row as it is, so two concurrent saves cannot both count as the first.
    """
    sets: list[str] = []
    set_params: list[object] = []
    changed: list[str] = []
    changed_params: list[object] = []
    if letter is not None:
        choice_sql = "CASE WHEN order_shown = %s THEN %s ELSE %s END"
        when_chosen_first = Choice.CHOSEN if letter == "A" else Choice.REJECTED
        otherwise = Choice.REJECTED if letter == "A" else Choice.CHOSEN
        choice_params = [Order.CHOSEN_FIRST, when_chosen_first, otherwise]
        sets.append(f"choice = {choice_sql}")
        set_params += choice_params
        changed.append(f"choice <> {choice_sql}")
        changed_params += choice_params
    if reasoning is not None:
        sets.append("reasoning = %s")
        set_params.append(reasoning)
        changed.append("reasoning <> %s")
        changed_params.append(reasoning)
    if pasted:
        sets.append("pasted = %s")
        set_params.append(True)
        changed.append("pasted = %s")
        changed_params.append(False)
    if sets:
        condition = " OR ".join(changed)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sets.append(f"revisions = revisions + CASE WHEN {condition} THEN 1 ELSE 0 END")
        sets.append(f"updated_at = CASE WHEN {condition} THEN %s ELSE updated_at END")
        set_params += [*changed_params, *changed_params, now]
    sets.append("time_ms = time_ms + %s")  # also the no-op that tells whether the row may be written
    set_params.append(elapsed_ms)
    where_params = [
        participant_id,
        participant_id,
        position,
        _public_id(study_public_id),
        Participant.Status.ACTIVE,
        len(reasoning or ""),
        pasted,
    ]
    update = f"UPDATE {table(Answer)} SET {', '.join(sets)} WHERE {_answer_allowed_sql(connection.vendor)}"
    params = [*set_params, *where_params]
    if connection.vendor != "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(update, params)
            matched = cursor.rowcount
        return answers_progress(participant_id=participant_id, position=position) if matched else None
    with prepared_cursor() as cursor:
        cursor.execute(_update_with_progress_sql(update), [*params, participant_id])
        rows = cursor.fetchall()
    if not rows or not rows[0][0]:
        return None
    return _progress_from([row[1:] for row in rows], position)


def _public_id(study_public_id: UUID) -> object:
    return Study._meta.get_field("public_id").get_db_prep_value(study_public_id, connection)
