"""Quality control: per-participant flags, approve/exclude, and per-question majorities of included raters."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median

from django.utils import timezone

from annotation.models import Answer, Participant, Question, Slot, SlotStatus, Study
from annotation.selectors import counted_votes
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


@dataclass
class ParticipantQuality:
    participant: Participant
    answers: list[Answer]
    flags: list[str] = field(default_factory=list)
    total_ms: int = 0

    @property
    def minutes(self) -> float:
        return round(self.total_ms / 60_000, 1)


def answer_flags(*, answer: Answer, study: Study) -> list[str]:
    flags = []
    if answer.choice and answer.time_ms and answer.time_ms < FAST_ANSWER_MS:
        flags.append(Flag.TOO_FAST)
    # An attention check's reason is the one word it asks for: never "short".
    short = len(answer.reasoning.strip()) < max(SHORT_REASONING_CHARS, study.reasoning_min_chars)
    if answer.choice and short and not answer.question.is_attention:
        flags.append(Flag.SHORT)
    if answer.pasted:
        flags.append(Flag.PASTED)
    if answer.question.is_attention and answer.choice == Choice.REJECTED:
        flags.append(Flag.FAILED_CHECK)
    return flags


def participant_quality(*, participant: Participant, answers: list[Answer]) -> ParticipantQuality:
    """Flags for one participant: too fast (half or more of the answers under 5 s), short/pasted/repeated
    reasoning, failed attention check."""
    study = participant.study
    report = ParticipantQuality(participant, answers, total_ms=sum(a.time_ms for a in answers))
    per_answer = [answer_flags(answer=a, study=study) for a in answers]
    counts = Counter(flag for flags in per_answer for flag in flags)
    answered = [a for a in answers if a.choice]
    if answered and counts[Flag.TOO_FAST] * 2 >= len(answered):
        report.flags.append(Flag.TOO_FAST)
    if counts[Flag.SHORT]:
        report.flags.append(Flag.SHORT)
    if counts[Flag.PASTED]:
        report.flags.append(Flag.PASTED)
    texts = Counter(
        a.reasoning.strip().lower() for a in answered if a.reasoning.strip() and not a.question.is_attention
    )
    if any(n > 1 for n in texts.values()):
        report.flags.append(Flag.REPEATED)
    if participant.failed_attention_check or counts[Flag.FAILED_CHECK]:
        report.flags.append(Flag.FAILED_CHECK)
    return report


def participants_quality(*, study: Study, include_preview: bool = False) -> list[ParticipantQuality]:
    """Quality control for each of the study's raters (arrivals turned away are not raters): their answers and flags
    (not the agreement report)."""
    participants = list(
        Participant.objects.filter(study=study, is_preview=include_preview)
        .placed()
        .select_related("study", "study_persona__persona")
        .order_by("study_persona__position", "id")
    )
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in (
        Answer.objects.filter(participant__in=participants)
        .select_related("question")
        .order_by("participant_id", "question__position")
    ):
        answers[answer.participant_id].append(answer)
    return [participant_quality(participant=p, answers=answers[p.pk]) for p in participants]


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


def study_majorities(*, study: Study) -> list[QuestionMajority]:
    """Each pair question's majority over submitted, non-excluded, non-preview raters."""
    questions = list(
        Question.objects.filter(study_persona__study=study, kind=Question.Kind.PAIR)
        .select_related("study_persona__persona", "pair__prompt")
        .order_by("study_persona__position", "position")
    )
    votes: dict[int, list[str]] = defaultdict(list)
    raters: dict[int, set[int]] = defaultdict(set)
    for vote in counted_votes(question_ids=[q.pk for q in questions]):
        votes[vote.question_id].append(vote.choice)
        raters[vote.study_persona_id].add(vote.participant_id)
    return [
        QuestionMajority(
            q,
            majority_compute(votes=votes[q.pk], threshold=study.majority_threshold),
            len(raters[q.study_persona_id]),
        )
        for q in questions
    ]


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


def study_dashboard(*, study: Study) -> list[PersonaProgress]:
    """Per persona: slots free / reserved (nobody answered yet) / in progress / complete, median time, flags."""
    reports = {r.participant.pk: r for r in participants_quality(study=study)}
    rows = []
    slots_by_persona: dict[int, list[Slot]] = defaultdict(list)
    for slot in Slot.objects.filter(study=study).select_related("holder"):
        slots_by_persona[slot.study_persona_id].append(slot)
    now = timezone.now()
    expired_before = now - study.reservation_timeout
    for entry in study.study_personas.select_related("persona").order_by("position"):
        counts = Counter()
        durations = []
        flagged = 0
        for slot in slots_by_persona[entry.pk]:
            report = reports.get(slot.holder_id) if slot.holder_id else None
            if slot.is_free(expired_before=expired_before):
                counts["free"] += 1
            elif slot.status == SlotStatus.COMPLETE:
                counts["complete"] += 1
                if slot.holder and slot.holder.duration:
                    durations.append(slot.holder.duration.total_seconds() / 60)
            elif report and any(a.choice for a in report.answers):
                counts["in_progress"] += 1
            else:
                counts["reserved"] += 1
            if report and report.flags:
                flagged += 1
        rows.append(
            PersonaProgress(
                entry.pk,
                str(entry.persona),
                entry.position,
                counts["free"],
                counts["reserved"],
                counts["in_progress"],
                counts["complete"],
                round(median(durations), 1) if durations else None,
                flagged,
            )
        )
    return rows
