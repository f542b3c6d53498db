"""A participant's answers: show a question (fixing its A/B order), save each change, submit once."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotation.models import Answer, Choice, Order, Participant, Question, Slot, SlotStatus, order_for

MAX_ELAPSED_MS_PER_REPORT = 10 * 60 * 1000  # a report claiming more is clipped (a tab left open over lunch)


class AnswerError(Exception):
    """The change cannot be saved; the message is shown to the participant."""


def questions_for(*, participant: Participant) -> list[Question]:
    return list(
        Question.objects.filter(study_persona_id=participant.study_persona_id)
        .select_related("pair__prompt")
        .order_by("position")
    )


def answer_open(*, participant: Participant, question: Question) -> Answer:
    """The participant's answer row for the question, created on first view with its seeded A/B order."""
    answer = Answer.objects.filter(participant=participant, question=question).order_by().first()
    if answer is not None:
        return answer
    answer, _ = Answer.objects.get_or_create(
        participant=participant,
        question=question,
        defaults={"order_shown": order_for(participant_id=participant.pk, question_id=question.pk)},
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


def _choice_for(letter: str, order_shown: str) -> str:
    chosen_is_a = order_shown == Order.CHOSEN_FIRST
    return Choice.CHOSEN if (letter == "A") == chosen_is_a else Choice.REJECTED


def answer_save(*, participant: Participant, question: Question, change: AnswerChange) -> Answer:
    """Apply one change (choice, reasoning, paste flag, time) to the participant's answer; idempotent on replay."""
    if participant.status != Participant.Status.ACTIVE:
        raise AnswerError("Your answers have been submitted and can no longer be changed.")
    study = participant.study
    if change.letter not in (None, "A", "B"):
        raise AnswerError("Choose answer A or answer B.")
    if change.reasoning is not None and len(change.reasoning) > study.reasoning_max_chars:
        raise AnswerError(f"Please keep your explanation under {study.reasoning_max_chars} characters.")
    if change.pasted and study.block_paste:
        raise AnswerError("Please type your explanation yourself; pasting is not allowed in this study.")
    with transaction.atomic():
        # One locked read (no Meta ordering, so no join and nothing but the answer row is locked); the row is
        # created first only when the question was never shown (a save without a page view).
        locked = Answer.objects.select_for_update().filter(participant=participant, question=question).order_by()
        answer = locked.first()
        if answer is None:
            answer_open(participant=participant, question=question)
            answer = locked.first()
        fields: dict[str, object] = {}
        if change.letter is not None:
            choice = _choice_for(change.letter, answer.order_shown)
            if choice != answer.choice:
                fields["choice"] = choice
        if change.reasoning is not None and change.reasoning != answer.reasoning:
            fields["reasoning"] = change.reasoning
        if change.pasted and not answer.pasted:
            fields["pasted"] = True
        updates: dict[str, object] = dict(fields)
        if fields:
            fields["updated_at"] = timezone.now()
            updates.update(revisions=F("revisions") + 1, updated_at=fields["updated_at"])
        elapsed = max(0, min(change.elapsed_ms, MAX_ELAPSED_MS_PER_REPORT))
        if elapsed:
            updates["time_ms"] = F("time_ms") + elapsed
        if updates:
            Answer.objects.filter(pk=answer.pk).update(**updates)
            # The row stays locked until commit, so the new values are known without reading them back.
            for name, value in fields.items():
                setattr(answer, name, value)
            if "updated_at" in fields:
                answer.revisions += 1
            answer.time_ms += elapsed
    return answer


@dataclass(frozen=True)
class Readiness:
    missing_choice: list[int]
    short_reasoning: list[int]

    @property
    def ready(self) -> bool:
        return not self.missing_choice and not self.short_reasoning


def participant_readiness(*, participant: Participant) -> Readiness:
    """Which questions (by position) still need a choice or a long enough explanation."""
    answers = {a.question_id: a for a in Answer.objects.filter(participant=participant)}
    minimum = participant.study.reasoning_min_chars
    missing, short = [], []
    for question in questions_for(participant=participant):
        answer = answers.get(question.pk)
        if answer is None or not answer.choice:
            missing.append(question.position)
        elif len(answer.reasoning.strip()) < max(1, minimum):
            short.append(question.position)
    return Readiness(missing, short)


def participant_submit(*, participant: Participant) -> str:
    """Final submit: lock the answers, complete the slot, and return the Prolific completion code to send.

    Submitting twice returns the same code and changes nothing the second time.
    """
    study = participant.study
    if participant.status == Participant.Status.SUBMITTED:
        return study.failed_check_code if participant.failed_attention_check else study.completion_code
    if participant.status != Participant.Status.ACTIVE:
        raise AnswerError("Your place in this study was released, so your answers can no longer be submitted.")
    readiness = participant_readiness(participant=participant)
    if not readiness.ready:
        raise AnswerError("Some questions still need an answer or a longer explanation.")
    failed = Answer.objects.filter(
        participant=participant, question__kind=Question.Kind.ATTENTION, choice=Choice.REJECTED
    ).exists()
    with transaction.atomic():
        if participant.is_preview:
            updated = Participant.objects.filter(pk=participant.pk, status=Participant.Status.ACTIVE).update(
                status=Participant.Status.SUBMITTED, submitted_at=timezone.now(), failed_attention_check=failed
            )
        else:
            holds = Slot.objects.select_for_update().filter(holder=participant).first()
            if holds is None:
                raise AnswerError("Your place in this study was released, so your answers can no longer be submitted.")
            updated = Participant.objects.filter(pk=participant.pk, status=Participant.Status.ACTIVE).update(
                status=Participant.Status.SUBMITTED, submitted_at=timezone.now(), failed_attention_check=failed
            )
            if updated:
                Slot.objects.filter(pk=holds.pk).update(status=SlotStatus.COMPLETE)
    participant.refresh_from_db()
    return study.failed_check_code if participant.failed_attention_check else study.completion_code
