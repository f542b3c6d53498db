"""A participant's answers: show a question (fixing its A/B order), save each change, submit once."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from annotation.models import Answer, Participant, Question, Slot, SlotStatus, Study, order_for
from annotation.selectors import questions_for
from annotation.services.participant_store import Progress, answer_update, session_participant
from benchmarks.judging.models import Choice
from core.db_stats import tables_analyze
from core.text import text_problem

MAX_ELAPSED_MS_PER_REPORT = 10 * 60 * 1000  # a report claiming more is clipped (a tab left open over lunch)
UNSAVABLE_TEXT_MESSAGE = (
    "Not saved: your explanation contains a character that cannot be stored (a NUL or an invalid one). "
    "Please retype it."
)
RELEASED_MESSAGE = "Your place in this study was released, so your answers can no longer be submitted."


class AnswerError(Exception):
    """The change cannot be saved; the message is shown to the participant."""


def _closed_error(status: str) -> AnswerError:
    if status == Participant.Status.SUBMITTED:
        return AnswerError("Your answers have been submitted and can no longer be changed.")
    return AnswerError(RELEASED_MESSAGE)


def answer_open(*, participant: Participant, question: Question) -> Answer:
    """The participant's answer row for the question, created on first view with its seeded A/B order."""
    answer = Answer.objects.filter(participant=participant, question=question).order_by().first()
    if answer is not None:
        return answer
    seed, persona_position = (
        Question.objects.filter(pk=question.pk)
        .values_list("study_persona__study__seed", "study_persona__position")
        .get()
    )
    order = order_for(
        seed=seed, pid=participant.prolific_pid, persona_position=persona_position, question_position=question.position
    )
    answer, _ = Answer.objects.get_or_create(
        participant=participant, question=question, defaults={"order_shown": order}
    )
    if participant.started_at is None:
        Participant.objects.filter(pk=participant.pk, started_at__isnull=True).update(started_at=timezone.now())
    return answer


@dataclass(frozen=True)
class AnswerChange:
    letter: str | None  # "A" / "B" / None (unchanged)
    reasoning: str | None  # None = unchanged
    pasted: bool = False
    elapsed_ms: int = 0


def answer_change_refusal(*, status: str, holds_place: bool, study: Study, change: AnswerChange) -> AnswerError | None:
    """Why a participant may not make this change, or None when they may: the save's rules in Python.

    ``participant_store.answer_update`` carries the same rules in its SQL (the hot path saves without loading the
    participant); tests/annotation/test_save_rules.py drives both through one table of cases.
    """
    if status != Participant.Status.ACTIVE:
        return _closed_error(status)
    if not holds_place:
        return AnswerError(RELEASED_MESSAGE)
    if change.letter not in (None, "A", "B"):
        return AnswerError("Choose answer A or answer B.")
    if change.reasoning is not None and len(change.reasoning) > study.reasoning_max_chars:
        return AnswerError(f"Please keep your explanation under {study.reasoning_max_chars} characters.")
    if change.reasoning is not None and text_problem(change.reasoning):
        return AnswerError(UNSAVABLE_TEXT_MESSAGE)
    if change.pasted and study.block_paste:
        return AnswerError("Please type your explanation yourself; pasting is not allowed in this study.")
    return None


def answer_save(*, participant_id: int, study_public_id: UUID, position: int, change: AnswerChange) -> Progress:
    """Apply one change (choice, reasoning, paste flag, time) to the answer at ``position``; idempotent on replay.
    Returns the participant's progress after it, or raises ``AnswerError`` with the reason it was refused.

    The one entry of a save, and it picks the path: first the one conditional UPDATE of ``answer_change_apply``
    (the hot path: only the ids the session holds, no model loaded). Only when that matches nothing does it load
    the participant: a refused change gets its reason (``answer_change_refusal``); a question never shown gets its
    answer row, and the UPDATE runs once more. So the UPDATE runs at most twice.
    """
    target = {"participant_id": participant_id, "study_public_id": study_public_id, "position": position}
    progress = answer_change_apply(**target, change=change)
    if progress is not None:
        return progress
    session = session_participant(study_public_id=study_public_id, participant_id=participant_id)
    if session is None:
        raise AnswerError("There is no such participant in this study.")
    current = session.participant
    refusal = answer_change_refusal(
        status=current.status, holds_place=session.holds_place, study=session.study, change=change
    )
    if refusal is not None:
        raise refusal
    question = Question.objects.filter(study_persona_id=current.study_persona_id, position=position).first()
    if question is None:
        raise AnswerError("There is no such question.")
    answer_open(participant=current, question=question)  # a save before the page view: create the row first
    progress = answer_change_apply(**target, change=change)
    if progress is None:
        current.refresh_from_db(fields=["status"])  # submitted or released in between
        raise _closed_error(current.status)
    return progress


def answer_change_apply(
    *, participant_id: int, study_public_id: UUID, position: int, change: AnswerChange
) -> Progress | None:
    """The change in one conditional UPDATE that also checks the participant may make it: the participant's progress
    after it (for the progress bar), or None if it may not be made like this.

    ``answer_save`` calls this first, with only the ids the session holds, and looks further only when it returns
    None, to create the row or explain the refusal.
    """
    if change.letter not in (None, "A", "B"):
        return None
    if change.reasoning is not None and text_problem(change.reasoning):
        return None  # PostgreSQL would refuse the text: ``answer_save`` says so to the participant
    return answer_update(
        participant_id=participant_id,
        study_public_id=study_public_id,
        position=position,
        letter=change.letter,
        reasoning=change.reasoning,
        pasted=change.pasted,
        elapsed_ms=max(0, min(change.elapsed_ms, MAX_ELAPSED_MS_PER_REPORT)),
    )


@dataclass(frozen=True)
class Readiness:
    missing_choice: list[int]
    short_reasoning: list[int]

    @property
    def ready(self) -> bool:
        return not self.missing_choice and not self.short_reasoning


def participant_readiness(*, participant: Participant) -> Readiness:
    """Which questions (by position) still need a choice or a long enough explanation (an attention check's own
    rule: see ``Question.explanation_min_chars``)."""
    answers = {a.question_id: a for a in Answer.objects.filter(participant=participant)}
    study = participant.study
    missing, short = [], []
    for question in questions_for(participant=participant):
        answer = answers.get(question.pk)
        if answer is None or not answer.choice:
            missing.append(question.position)
        elif not Answer.explanation_ok(answer.reasoning, min_chars=question.min_chars(study)):
            short.append(question.position)
    return Readiness(missing, short)


def participant_submit(*, participant: Participant) -> str:
    """Final submit: check every answer, complete the slot, and return the Prolific completion code to send.

    Submitting twice returns the same code and changes nothing the second time. The participant row is locked first
    (the order every writer takes: participant, then slot), so the answers checked are the answers submitted: a save
    holds a key-share lock on that row while it writes (see ``participant_store``).
    """
    study = participant.study
    with transaction.atomic():
        current = Participant.objects.select_for_update().get(pk=participant.pk)
        if current.status == Participant.Status.SUBMITTED:
            return current.completion_code
        if current.status != Participant.Status.ACTIVE:
            raise AnswerError(RELEASED_MESSAGE)
        current.study = study
        if not participant_readiness(participant=current).ready:
            raise AnswerError("Some questions still need an answer or a longer explanation.")
        failed = Answer.objects.filter(
            participant=current, question__kind=Question.Kind.ATTENTION, choice=Choice.REJECTED
        ).exists()
        if not current.is_preview:
            holds = Slot.objects.select_for_update().filter(holder=current).first()
            if holds is None:
                raise AnswerError(RELEASED_MESSAGE)
            Slot.objects.filter(pk=holds.pk).update(status=SlotStatus.COMPLETE)
        Participant.objects.filter(pk=current.pk).update(
            status=Participant.Status.SUBMITTED, submitted_at=timezone.now(), failed_attention_check=failed
        )
    if not current.is_preview and not Slot.objects.filter(study=study).exclude(status=SlotStatus.COMPLETE).exists():
        # The study has just filled: its answers and participants came in faster than autovacuum analyses (the
        # report and the study pages plan their joins on these tables next).
        tables_analyze(Participant, Answer, Slot)
    participant.refresh_from_db()
    return participant.completion_code
