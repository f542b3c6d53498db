"""The participant save, the hot path of a live study, in plain SQL.

Profiled under gunicorn, Django's ORM spent several times longer compiling the save's queries (Case/When, Exists,
Subquery resolution) than the database spent running them, so what a save needs is written here once: the change
itself, which also checks that this participant may make it, and the read for the progress bar. On PostgreSQL both
go in one statement (the UPDATE inside a WITH); SQLite, which has no UPDATE there, runs the same UPDATE and then the
read. Everything else (first views, errors, submit) stays in the ORM.

On PostgreSQL the statements are also prepared once per connection (``DATABASE_PREPARED_STATEMENTS``, on by
default): with Django's client-side binding the server parsed and planned them on every save, which cost it about
2.7 times the CPU of running them prepared (0.87 against 0.32 ms a save, measured with five connections).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.utils import timezone

from annotation.models import Answer, Choice, Order, Participant, Question, Slot, Study

ANSWER = Answer._meta.db_table
QUESTION = Question._meta.db_table
PARTICIPANT = Participant._meta.db_table
SLOT = Slot._meta.db_table
STUDY = Study._meta.db_table


@contextmanager
def _cursor() -> Iterator[object]:
    """A cursor for the hot path: Django's, but on PostgreSQL one that binds on the server and so can prepare.

    psycopg prepares a statement from its second execution on a connection (``prepare_threshold``, set in the
    settings); Django's own cursors bind on the client and never prepare. The cursor is still wrapped by Django, so
    errors are Django's and the statements appear in captured query logs.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg  # only PostgreSQL deployments need it

    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        yield cursor


# Every row: the questionnaire's length (as Study.questions_per_persona); then one row per answer (NULLs when there
# is none yet).
_PROGRESS_SQL = f"""
SELECT s.pairs_per_persona + s.attention_checks, q.position, a.choice, a.reasoning, a.updated_at IS NOT NULL
FROM {PARTICIPANT} p
JOIN {STUDY} s ON s.id = p.study_id
LEFT JOIN {ANSWER} a ON a.participant_id = p.id
LEFT JOIN {QUESTION} q ON q.id = a.question_id
WHERE p.id = %s
"""

# PostgreSQL only: the change and then the progress read in one statement. The UPDATE's RETURNING gives the changed
# row's new values; the outer query still sees the rows as they were before it (a WITH's changes are invisible to
# its own query), so the changed answer's values are taken from RETURNING. The first column says whether the UPDATE
# matched; the rest are _PROGRESS_SQL's. Choice and updated_at are never set back to NULL, so COALESCE is exact.
_UPDATE_WITH_PROGRESS_SQL = f"""
WITH changed AS (UPDATE_STATEMENT RETURNING id, choice, reasoning, updated_at)
SELECT (SELECT count(*) FROM changed), s.pairs_per_persona + s.attention_checks, q.position,
       COALESCE(c.choice, a.choice), COALESCE(c.reasoning, a.reasoning),
       COALESCE(c.updated_at, a.updated_at) IS NOT NULL
FROM {PARTICIPANT} p
JOIN {STUDY} s ON s.id = p.study_id
LEFT JOIN {ANSWER} a ON a.participant_id = p.id
LEFT JOIN {QUESTION} q ON q.id = a.question_id
LEFT JOIN changed c ON c.id = a.id
WHERE p.id = %s
"""

# The answer row a change may go to: the participant's question at the position, only while the participant is in
# this study, active, holding a place (or previewing), and only if the change keeps the study's rules. On PostgreSQL
# the participant row is key-share locked until the save commits: the final submit locks it for update before it
# checks the answers, so no save is in flight while it checks, and a save waiting behind it re-reads the status and
# writes nothing. (SQLite runs one writer at a time, so there the submit's transaction alone is enough.)
_ANSWER_ALLOWED_SQL = f"""
participant_id = %s AND question_id = (
    SELECT q.id FROM {QUESTION} q
    JOIN {PARTICIPANT} p ON p.study_persona_id = q.study_persona_id
    JOIN {STUDY} s ON s.id = p.study_id
    WHERE p.id = %s AND q.position = %s AND s.public_id = %s AND p.status = %s
      AND (p.is_preview OR EXISTS (SELECT 1 FROM {SLOT} sl WHERE sl.holder_id = p.id))
      AND s.reasoning_max_chars >= %s AND NOT (s.block_paste AND %s)
    LOCK_PARTICIPANT
)
"""
_ANSWER_ALLOWED = {
    "postgresql": _ANSWER_ALLOWED_SQL.replace("LOCK_PARTICIPANT", "FOR KEY SHARE OF p"),
    "sqlite": _ANSWER_ALLOWED_SQL.replace("LOCK_PARTICIPANT", ""),
}


def answer_update(*, participant_id: int, study_public_id: UUID, position: int, letter: str | None,
                  reasoning: str | None, pasted: bool, elapsed_ms: int) -> Progress | None:  # fmt: skip
    """Apply a change in one conditional UPDATE (autocommit); the participant's progress after it, or None when the
    UPDATE matched nothing.

    The statement carries every check a save needs (see ``_ANSWER_ALLOWED_SQL``), so it is also the hot path's
    authorisation: None means "not like this" and the caller works out why. Revisions and ``updated_at`` move only
    when a value really changes (a replayed form changes nothing); the comparison is made in the same statement,
    against the row as it is, so two concurrent saves cannot both count as the first. On PostgreSQL the progress
    read rides in the same statement (``_UPDATE_WITH_PROGRESS_SQL``); SQLite, which has no UPDATE in a WITH, reads
    it after.
    """
    sets: list[str] = []
    set_params: list[object] = []
    changed: list[str] = []
    changed_params: list[object] = []
    if letter is not None:
        choice_sql = "CASE WHEN order_shown = %s THEN %s ELSE %s END"
        chosen_first, otherwise = (
            (Choice.CHOSEN, Choice.REJECTED) if letter == "A" else (Choice.REJECTED, Choice.CHOSEN)
        )
        choice_params = [Order.CHOSEN_FIRST, chosen_first, otherwise]
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
    public_id = Study._meta.get_field("public_id").get_db_prep_value(study_public_id, connection)
    where_params = [participant_id, participant_id, position, public_id, Participant.Status.ACTIVE,
                    len(reasoning or ""), pasted]  # fmt: skip
    update = f"UPDATE {ANSWER} SET {', '.join(sets)} WHERE {_ANSWER_ALLOWED[connection.vendor]}"
    params = [*set_params, *where_params]
    if connection.vendor != "postgresql":
        with _cursor() as cursor:
            cursor.execute(update, params)
            matched = cursor.rowcount
        return answers_progress(participant_id=participant_id, position=position) if matched else None
    with _cursor() as cursor:
        cursor.execute(_UPDATE_WITH_PROGRESS_SQL.replace("UPDATE_STATEMENT", update), [*params, participant_id])
        rows = cursor.fetchall()
    if not rows or not rows[0][0]:
        return None
    return _progress_from([row[1:] for row in rows], position)


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    saved: bool  # the answer at the position asked about has been changed at least once

    @property
    def percent(self) -> int:
        return round(100 * self.answered / max(1, self.total))


def answers_progress(*, participant_id: int, position: int | None = None) -> Progress:
    """How many questions have a choice and an explanation, from one read of the participant's answers."""
    with _cursor() as cursor:
        cursor.execute(_PROGRESS_SQL, [participant_id])
        rows = cursor.fetchall()
    return _progress_from(rows, position)


def _progress_from(rows: list, position: int | None) -> Progress:
    """Progress from the rows of ``_PROGRESS_SQL`` (questionnaire length, position, choice, reasoning, saved)."""
    answered = sum(
        Answer.answered(choice or "", reasoning or "") for _total, _position, choice, reasoning, _saved in rows
    )
    saved = any(row_position == position and was_saved for _total, row_position, _c, _r, was_saved in rows)
    return Progress(answered=answered, total=rows[0][0] if rows else 0, saved=saved)
