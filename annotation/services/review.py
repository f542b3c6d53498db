"""Quality control: per-participant flags, approve/exclude, and per-question majorities of included raters."""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from statistics import median
from typing import Any

from django.db.models import Count, Exists, Func, OuterRef, Q, QuerySet, Sum, TextField, Value
from django.db.models.functions import Length
from django.utils import timezone

from annotation.models import (
    Answer,
    Participant,
    Question,
    Slot,
    SlotStatus,
    Study,
    StudyPersona,
    claimable_slot_q,
)
from annotation.selectors import study_votes
from annotation.services.majority import MajorityResult, majority_compute
from benchmarks.judging.models import Choice

FAST_ANSWER_MS = 5_000  # under 5 s on a question: unlikely to have read two replies
SHORT_REASONING_CHARS = 20


class Flag:
    TOO_FAST = "too fast"
    SHORT = "short reasoning"
    PASTED = "pasted reasoning"
    REPEATED = "repeated reasoning"
    FAILED_CHECK = "failed attention check"


# The blanks a reason is trimmed of before it is measured or compared, and the letters folded for comparison: the
# same in Python and in SQL (PostgreSQL's and SQLite's TRIM and LOWER under the C rules), so the flags a list
# computes in the database equal those a participant's page computes from their answers.
REASONING_BLANKS = " \t\n\r\x0b\x0c"
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def reasoning_key(reasoning: str) -> str:
    """A reason as "repeated reasoning" compares it: blanks trimmed, ASCII letters folded to lower case."""
    return reasoning.strip(REASONING_BLANKS).translate(_ASCII_FOLD)


def answer_flags(*, answer: Answer, study: Study) -> list[str]:
    """One answer's flags (its SQL twin, for many participants at once, is ``answer_tallies``)."""
    flags = []
    if answer.choice and answer.time_ms and answer.time_ms < FAST_ANSWER_MS:
        flags.append(Flag.TOO_FAST)
    # An attention check's reason is the one word it asks for: never "short".
    short = len(answer.reasoning.strip(REASONING_BLANKS)) < _short_below(study)
    if answer.choice and short and not answer.question.is_attention:
        flags.append(Flag.SHORT)
    if answer.pasted:
        flags.append(Flag.PASTED)
    if answer.question.is_attention and answer.choice == Choice.REJECTED:
        flags.append(Flag.FAILED_CHECK)
    return flags


def _short_below(study: Study) -> int:
    return max(SHORT_REASONING_CHARS, study.reasoning_min_chars)


@dataclass(frozen=True)
class AnswerTally:
    """What a participant's flags are decided from: how many of their answers carry each answer flag."""

    answers: int = 0  # answers shown (a question opened counts, answered or not)
    answered: int = 0  # with a choice
    too_fast: int = 0
    short: int = 0
    pasted: int = 0
    failed_check: int = 0
    reasons: int = 0  # answered pair questions with a reason
    distinct_reasons: int = 0  # … of which different (``reasoning_key``)
    total_ms: int = 0


def participant_flags(*, tally: AnswerTally, failed_attention_check: bool) -> list[str]:
    """A participant's flags: too fast (half or more of the answers under 5 s), short/pasted/repeated reasoning,
    failed attention check."""
    flags = []
    if tally.answered and tally.too_fast * 2 >= tally.answered:
        flags.append(Flag.TOO_FAST)
    if tally.short:
        flags.append(Flag.SHORT)
    if tally.pasted:
        flags.append(Flag.PASTED)
    if tally.distinct_reasons < tally.reasons:
        flags.append(Flag.REPEATED)
    if failed_attention_check or tally.failed_check:
        flags.append(Flag.FAILED_CHECK)
    return flags


@dataclass
class ParticipantQuality:
    participant: Participant
    tally: AnswerTally
    flags: list[str] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return self.tally.answers

    @property
    def minutes(self) -> float:
        return round(self.tally.total_ms / 60_000, 1)


def answer_tally(*, answers: list[Answer], study: Study) -> AnswerTally:
    """One participant's tally from their loaded answers (each with its question)."""
    per_answer = [answer_flags(answer=a, study=study) for a in answers]
    reasons = [key for a in answers if a.choice and not a.question.is_attention and (key := reasoning_key(a.reasoning))]
    return AnswerTally(
        answers=len(answers),
        answered=sum(1 for a in answers if a.choice),
        too_fast=sum(Flag.TOO_FAST in flags for flags in per_answer),
        short=sum(Flag.SHORT in flags for flags in per_answer),
        pasted=sum(Flag.PASTED in flags for flags in per_answer),
        failed_check=sum(Flag.FAILED_CHECK in flags for flags in per_answer),
        reasons=len(reasons),
        distinct_reasons=len(set(reasons)),
        total_ms=sum(a.time_ms for a in answers),
    )


def participant_quality(*, participant: Participant, answers: list[Answer]) -> ParticipantQuality:
    """Flags for one participant from their loaded answers (their review page shows each answer's flags too)."""
    tally = answer_tally(answers=answers, study=participant.study)
    flags = participant_flags(tally=tally, failed_attention_check=participant.failed_attention_check)
    return ParticipantQuality(participant, tally, flags)


class _TrimBlanks(Func):
    """``reasoning`` without the leading and trailing ``REASONING_BLANKS`` (``str.strip(REASONING_BLANKS)``)."""

    function = "TRIM"  # SQLite's TRIM(text, characters)
    output_field = TextField()

    def __init__(self, expression: str) -> None:
        super().__init__(expression, Value(REASONING_BLANKS))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="BTRIM", **extra)


class _AsciiLower(Func):
    """LOWER that folds ASCII letters only, as ``reasoning_key`` does (SQLite's LOWER already does)."""

    function = "LOWER"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f'LOWER({sql} COLLATE "C")', params


def answer_tallies(*, answers: QuerySet[Answer], study: Study) -> dict[int, AnswerTally]:
    """Each participant's tally over ``answers``, counted in the database (one grouped query, no answer loaded):
    ``answer_flags`` and ``answer_tally`` in SQL; ``tests/annotation/test_quality_rules.py`` keeps them in step."""
    answered = ~Q(choice="")
    pair = ~Q(question__kind=Question.Kind.ATTENTION)
    reason = answered & pair & Q(reason_length__gt=0)
    rows = (
        answers.order_by()
        .alias(reason=_TrimBlanks("reasoning"))
        .alias(reason_length=Length("reason"))
        .values("participant_id")
        .annotate(
            n_answers=Count("pk"),
            n_answered=Count("pk", filter=answered),
            n_too_fast=Count("pk", filter=answered & Q(time_ms__gt=0, time_ms__lt=FAST_ANSWER_MS)),
            n_short=Count("pk", filter=answered & pair & Q(reason_length__lt=_short_below(study))),
            n_pasted=Count("pk", filter=Q(pasted=True)),
            n_failed_check=Count("pk", filter=Q(question__kind=Question.Kind.ATTENTION, choice=Choice.REJECTED)),
            n_reasons=Count("pk", filter=reason),
            n_distinct_reasons=Count(_AsciiLower("reason"), filter=reason, distinct=True),
            n_total_ms=Sum("time_ms"),
        )
    )
    return {
        row["participant_id"]: AnswerTally(
            answers=row["n_answers"],
            answered=row["n_answered"],
            too_fast=row["n_too_fast"],
            short=row["n_short"],
            pasted=row["n_pasted"],
            failed_check=row["n_failed_check"],
            reasons=row["n_reasons"],
            distinct_reasons=row["n_distinct_reasons"],
            total_ms=row["n_total_ms"] or 0,
        )
        for row in rows
    }


def participants_quality_for(*, participants: Sequence[Participant], study: Study) -> list[ParticipantQuality]:
    """Quality control for these participants of ``study`` (a page of them, or all), their answers counted in the
    database: two queries whatever the number of answers."""
    tallies = answer_tallies(answers=Answer.objects.filter(participant__in=[p.pk for p in participants]), study=study)
    reports = []
    for participant in participants:
        tally = tallies.get(participant.pk, AnswerTally())
        flags = participant_flags(tally=tally, failed_attention_check=participant.failed_attention_check)
        reports.append(ParticipantQuality(participant, tally, flags))
    return reports


def placed_participants(*, study: Study, include_preview: bool = False) -> QuerySet[Participant]:
    """The study's raters (arrivals turned away are not raters), in persona order: whom quality control reviews."""
    return (
        Participant.objects.filter(study=study, is_preview=include_preview)
        .placed()
        .select_related("study", "study_persona__persona")
        .order_by("study_persona__position", "id")
    )


def participants_quality(*, study: Study, include_preview: bool = False) -> list[ParticipantQuality]:
    """Quality control for each of the study's raters: their answer counts and flags (not the agreement report)."""
    participants = list(placed_participants(study=study, include_preview=include_preview))
    return participants_quality_for(participants=participants, study=study)


def participant_review_set(*, participant: Participant, decision: str, note: str = "") -> Participant:
    """Approve or exclude a participant (an excluded rater's answers leave the majority)."""
    if decision not in (Participant.Review.APPROVED, Participant.Review.EXCLUDED, Participant.Review.PENDING):
        raise ValueError(f"unknown review decision {decision!r}")
    Participant.objects.filter(pk=participant.pk).update(review=decision, review_note=note[:2000])
    participant.refresh_from_db()
    return participant


@dataclass(frozen=True)
class QuestionMajority:
    question: Question
    result: MajorityResult
    raters: int  # included raters for the persona (may exceed k when a (k+1)-th set was recruited)


MAJORITY_CHUNK_ROWS = 1000  # questions and votes fetched per round trip (a server-side cursor on PostgreSQL)


def study_majorities(*, study: Study) -> Iterator[QuestionMajority]:
    """Each pair question's majority over submitted, non-excluded, non-preview raters, in persona then question
    order. Streams: questions and votes come through cursors in the same order and leave one persona at a time, so
    memory stays flat in the size of the study."""
    questions = (
        Question.objects.filter(study_persona__study=study, kind=Question.Kind.PAIR)
        .select_related("study_persona__persona", "pair")
        .only(
            "kind",
            "position",
            "pair_id",
            "study_persona__position",
            "study_persona__persona__public_id",
            "pair__prompt_id",
        )
        .order_by("study_persona__position", "position")
        .iterator(chunk_size=MAJORITY_CHUNK_ROWS)
    )
    votes = iter(study_votes(study=study, chunk_size=MAJORITY_CHUNK_ROWS))
    vote = next(votes, None)
    for _, persona_questions in groupby(questions, key=attrgetter("study_persona_id")):
        group = list(persona_questions)
        by_question: dict[int, list[str]] = defaultdict(list)
        raters: set[int] = set()
        wanted = {q.pk for q in group}
        position = group[0].study_persona.position
        # Votes come in the same persona order: this persona's, after any of a persona without pair questions.
        while vote is not None and vote.persona_position <= position:
            if vote.question_id in wanted:
                by_question[vote.question_id].append(vote.choice)
                raters.add(vote.participant_id)
            vote = next(votes, None)
        for q in group:
            result = majority_compute(votes=by_question[q.pk], threshold=study.majority_threshold)
            yield QuestionMajority(q, result, len(raters))


@dataclass(frozen=True)
class PersonaProgress:
    study_persona_id: int
    persona_label: str
    position: int
    free: int
    reserved: int
    in_progress: int
    complete: int
    median_minutes: float | None
    flagged: int


@dataclass(frozen=True)
class SlotCounts:
    free: int
    reserved: int
    in_progress: int
    complete: int


def _slot_counts(slots: QuerySet[Slot], *, study: Study) -> dict[int, SlotCounts]:
    """Slots by state per study persona, counted in the database: free (or reservation expired, ``Slot.is_free``),
    reserved (nobody answered yet), in progress (the holder answered something), complete."""
    free = claimable_slot_q(expired_before=timezone.now() - study.reservation_timeout)
    taken = ~free & ~Q(status=SlotStatus.COMPLETE)
    answered = Exists(Answer.objects.filter(participant_id=OuterRef("holder_id")).exclude(choice=""))
    rows = (
        slots.order_by()
        .values("study_persona_id")
        .annotate(
            n_free=Count("pk", filter=free),
            n_complete=Count("pk", filter=Q(status=SlotStatus.COMPLETE)),
            n_taken=Count("pk", filter=taken),
        )
    )
    # Only places taken and not complete need a look at the holder's answers (a few at any time).
    in_progress = dict(
        slots.filter(taken)
        .filter(answered)
        .order_by()
        .values("study_persona_id")
        .annotate(n=Count("pk"))
        .values_list("study_persona_id", "n")
    )
    return {
        row["study_persona_id"]: SlotCounts(
            free=row["n_free"],
            reserved=row["n_taken"] - in_progress.get(row["study_persona_id"], 0),
            in_progress=in_progress.get(row["study_persona_id"], 0),
            complete=row["n_complete"],
        )
        for row in rows
    }


def study_slot_totals(*, study: Study) -> SlotCounts:
    """The whole study's places by state (the dashboard's first line)."""
    per_persona = _slot_counts(Slot.objects.filter(study=study), study=study).values()
    return SlotCounts(
        free=sum(c.free for c in per_persona),
        reserved=sum(c.reserved for c in per_persona),
        in_progress=sum(c.in_progress for c in per_persona),
        complete=sum(c.complete for c in per_persona),
    )


def study_dashboard(*, study: Study, entries: Sequence[StudyPersona] | None = None) -> list[PersonaProgress]:
    """Per persona (``entries``, a page of them; all by default): slots free / reserved (nobody answered yet) /
    in progress / complete, median time, raters flagged.

    Counted in the database for those personas only: slots by state in grouped queries, their holders' answers in
    another (``answer_tallies``); no answer is loaded, and a page costs the same whatever the study's size (the
    dashboard polls every 5 s)."""
    if entries is None:
        entries = list(study.study_personas.select_related("persona").order_by("position"))
    ids = [entry.pk for entry in entries]
    counts = _slot_counts(Slot.objects.filter(study=study, study_persona_id__in=ids), study=study)
    holders = Participant.objects.filter(slot__study=study, slot__study_persona_id__in=ids)
    tallies = answer_tallies(answers=Answer.objects.filter(participant__in=holders), study=study)
    durations: dict[int, list[float]] = defaultdict(list)
    flagged: dict[int, int] = defaultdict(int)
    for pk, entry_id, status, failed_check, entered_at, submitted_at in holders.values_list(
        "pk", "slot__study_persona_id", "slot__status", "failed_attention_check", "entered_at", "submitted_at"
    ):
        if status == SlotStatus.COMPLETE and submitted_at and entered_at:
            durations[entry_id].append((submitted_at - entered_at).total_seconds() / 60)
        if participant_flags(tally=tallies.get(pk, AnswerTally()), failed_attention_check=failed_check):
            flagged[entry_id] += 1
    rows = []
    for entry in entries:
        count = counts.get(entry.pk, SlotCounts(0, 0, 0, 0))
        minutes = durations[entry.pk]
        rows.append(
            PersonaProgress(
                entry.pk,
                str(entry.persona),
                entry.position,
                count.free,
                count.reserved,
                count.in_progress,
                count.complete,
                round(median(minutes), 1) if minutes else None,
                flagged[entry.pk],
            )
        )
    return rows
