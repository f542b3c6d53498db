"""Annotation studies: a study shows each persona to k raters (pre-created slots) who answer its questions.

Study → StudyPersona (k ``Slot`` rows each) → Question (a preference pair, or an attention check with a known
answer) → Participant (one Prolific PID, holding at most one slot) → Answer (one per participant and question).
Exact-k is structural: slots exist up front, a slot has at most one holder and a participant holds at most one slot.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q

# The reports' model lives in annotation/reports/models.py; importing it here registers it with the app.
from benchmarks.judging.models import DECISIVE, Choice, Order, letter_for_choice
from benchmarks.pairs.models import PreferencePair
from personas.models import Persona

ATTENTION_EXPLANATION_MIN_CHARS = 1  # an attention check asks for one word ("check"); see Question
REASONING_HARD_CAP = 5000  # characters; a study may set a lower maximum but never a higher one


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class Study(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    instructions = models.TextField()
    raters_per_persona = models.PositiveSmallIntegerField(default=4)
    majority_threshold = models.PositiveSmallIntegerField(default=3)
    pairs_per_persona = models.PositiveSmallIntegerField(default=10)
    attention_checks = models.PositiveSmallIntegerField(default=1)
    reasoning_min_chars = models.PositiveIntegerField(default=30)
    reasoning_max_chars = models.PositiveIntegerField(default=1500)
    block_paste = models.BooleanField(default=False)
    estimated_minutes = models.PositiveSmallIntegerField(default=20)
    # None = Prolific's default maximum time, 2 + X + 2√X minutes for an estimate of X.
    max_minutes_override = models.PositiveSmallIntegerField(null=True, blank=True)
    completion_code = models.CharField(max_length=32)
    failed_check_code = models.CharField(max_length=32)
    no_place_code = models.CharField(max_length=32)
    seed = models.BigIntegerField(default=0)
    # How the coordinator chose the personas and pairs (filters, list, sample size, pair sources), so a draft's
    # edit form starts from the same choice: {"personas": {...}, "pairs": {...}}.
    selection = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"
        permissions = [
            ("export_study", "Can export study answers and majorities"),
            ("pay_bonus", "Can set and pay participant bonuses"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=StudyStatus.values), name="study_status_valid"),
            models.CheckConstraint(condition=Q(raters_per_persona__gte=1), name="study_k_positive"),
            models.CheckConstraint(
                condition=Q(majority_threshold__gte=1, majority_threshold__lte=F("raters_per_persona")),
                name="study_majority_within_k",
            ),
            models.CheckConstraint(condition=Q(pairs_per_persona__gte=1), name="study_pairs_positive"),
            models.CheckConstraint(
                condition=Q(
                    reasoning_min_chars__lte=F("reasoning_max_chars"), reasoning_max_chars__lte=REASONING_HARD_CAP
                ),
                name="study_reasoning_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def max_minutes(self) -> int:
        if self.max_minutes_override:
            return self.max_minutes_override
        x = self.estimated_minutes
        return math.ceil(2 + x + 2 * math.sqrt(x))

    @property
    def questions_per_persona(self) -> int:
        """Every persona's questionnaire holds the sampled pairs plus the attention checks."""
        return self.pairs_per_persona + self.attention_checks

    @property
    def reservation_timeout(self) -> timedelta:
        return timedelta(minutes=self.max_minutes)


class StudyPersona(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_personas")
    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="study_entries")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "persona"], name="study_persona_unique"),
            models.UniqueConstraint(fields=["study", "position"], name="study_persona_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.study} · persona {self.persona_id}"


class SlotStatus(models.TextChoices):
    FREE = "free", "Free"
    RESERVED = "reserved", "Reserved"
    COMPLETE = "complete", "Complete"


class ParticipantQuerySet(models.QuerySet["Participant"]):
    def counted(self) -> ParticipantQuerySet:
        return self.filter(counted_rater_q())

    def turned_away(self) -> ParticipantQuerySet:
        """Arrivals who found no place left: they never had a persona (a released rater keeps theirs)."""
        return self.filter(study_persona__isnull=True, is_preview=False)

    def placed(self) -> ParticipantQuerySet:
        """Everyone who held a place (or previewed one): the raters a coordinator reviews."""
        return self.exclude(study_persona__isnull=True, is_preview=False)


class Participant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Answering"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned"
        TIMED_OUT = "timed_out", "Timed out"

    class Review(models.TextChoices):
        PENDING = "pending", "Not reviewed"
        APPROVED = "approved", "Approved"
        EXCLUDED = "excluded", "Excluded"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    prolific_pid = models.CharField(max_length=64)
    prolific_study_id = models.CharField(max_length=64, blank=True)
    prolific_session_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The persona this participant role-plays (kept after a release, so their answers stay interpretable).
    study_persona = models.ForeignKey(
        StudyPersona, null=True, blank=True, on_delete=models.CASCADE, related_name="participants"
    )
    is_preview = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    review = models.CharField(max_length=16, choices=Review.choices, default=Review.PENDING)
    review_note = models.TextField(blank=True)
    failed_attention_check = models.BooleanField(default=False)
    entered_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # first question shown
    submitted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    bonus = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["study", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "prolific_pid"], name="participant_unique_pid"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "submitted", "returned", "timed_out"]),
                name="participant_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(review__in=["pending", "approved", "excluded"]), name="participant_review_valid"
            ),
            models.CheckConstraint(condition=Q(bonus__isnull=True) | Q(bonus__gte=0), name="participant_bonus_nonneg"),
        ]

    def __str__(self) -> str:
        return f"Participant {self.pk} ({self.get_status_display()})"

    @property
    def completion_code(self) -> str:
        """The code Prolific gets for this participant: the study's failed-check code if they failed an attention
        check, else its completion code."""
        return self.study.failed_check_code if self.failed_attention_check else self.study.completion_code

    @property
    def duration(self) -> timedelta | None:
        if self.submitted_at and self.entered_at:
            return self.submitted_at - self.entered_at
        return None


def counted_rater_q(prefix: str = "") -> Q:
    """The raters majorities and reports count: submitted, not previews, not excluded by review. ``prefix`` reaches
    the participant from another model (``"participant__"`` from an answer)."""
    return Q(**{f"{prefix}status": Participant.Status.SUBMITTED, f"{prefix}is_preview": False}) & ~Q(
        **{f"{prefix}review": Participant.Review.EXCLUDED}
    )


def claimable_slot_q(*, expired_before: datetime) -> Q:
    """Free slots, and reserved ones whose reservation began before ``expired_before`` (``Slot.is_free`` in SQL)."""
    return Q(status=SlotStatus.FREE) | Q(status=SlotStatus.RESERVED, reserved_at__lt=expired_before)


class SlotQuerySet(models.QuerySet["Slot"]):
    def claimable(self, *, expired_before: datetime) -> SlotQuerySet:
        """Free slots, and reserved ones whose reservation began before ``expired_before`` (see ``Slot.is_free``)."""
        return self.filter(claimable_slot_q(expired_before=expired_before))


class Slot(models.Model):
    """One of the k places for a persona. ``holder`` is the participant holding it (reserved or complete)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="slots")  # denormalised: fast claim
    study_persona = models.ForeignKey(StudyPersona, on_delete=models.CASCADE, related_name="slots")
    index = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=SlotStatus.choices, default=SlotStatus.FREE)
    holder = models.OneToOneField(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="slot")
    reserved_at = models.DateTimeField(null=True, blank=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        ordering = ["study_persona", "index"]
        indexes = [models.Index(fields=["study", "status", "index"], name="slot_claim_idx")]
        constraints = [
            models.UniqueConstraint(fields=["study_persona", "index"], name="slot_unique_index"),
            models.CheckConstraint(condition=Q(status__in=SlotStatus.values), name="slot_status_valid"),
            # A free slot has no holder; a taken one always has one.
            models.CheckConstraint(
                condition=(Q(status="free") & Q(holder__isnull=True)) | (~Q(status="free") & Q(holder__isnull=False)),
                name="slot_holder_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Slot {self.index} of {self.study_persona}"

    def is_free(self, *, expired_before: datetime) -> bool:
        """Free, or reserved before ``expired_before`` (the holder ran out of time: the next arrival may take it)."""
        if self.status == SlotStatus.FREE:
            return True
        return self.status == SlotStatus.RESERVED and self.reserved_at is not None and self.reserved_at < expired_before


class Question(models.Model):
    class Kind(models.TextChoices):
        PAIR = "pair", "Preference pair"
        ATTENTION = "attention", "Attention check"

    study_persona = models.ForeignKey(StudyPersona, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()  # 1-based
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PAIR)
    pair = models.ForeignKey(PreferencePair, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Attention checks: an instructed-response item; "correct" plays the role of the chosen answer.
    check_prompt = models.TextField(blank=True)
    check_correct = models.TextField(blank=True)
    check_wrong = models.TextField(blank=True)

    class Meta:
        ordering = ["study_persona", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study_persona", "position"], name="question_unique_position"),
            models.UniqueConstraint(
                fields=["study_persona", "pair"], condition=Q(pair__isnull=False), name="question_unique_pair"
            ),
            models.CheckConstraint(
                condition=(Q(kind="pair") & Q(pair__isnull=False))
                | (Q(kind="attention") & Q(pair__isnull=True) & ~Q(check_correct="")),
                name="question_kind_matches_content",
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="question_position_positive"),
        ]

    def __str__(self) -> str:
        return f"Q{self.position} of {self.study_persona}"

    @property
    def is_attention(self) -> bool:
        return self.kind == self.Kind.ATTENTION

    @staticmethod
    def explanation_min_chars(*, kind: str, study_min_chars: int) -> int:
        """How long the explanation must be: the study's minimum for a pair; for an attention check only present,
        because the check itself says what to write ("write 'check' as your reason", Prolific's rule that a worker
        who follows the instruction always passes)."""
        return ATTENTION_EXPLANATION_MIN_CHARS if kind == Question.Kind.ATTENTION else max(1, study_min_chars)

    def min_chars(self, study: Study) -> int:
        return Question.explanation_min_chars(kind=self.kind, study_min_chars=study.reasoning_min_chars)

    @property
    def prompt_text(self) -> str:
        return self.check_prompt if self.is_attention else self.pair.prompt.text

    @property
    def chosen_text(self) -> str:
        return self.check_correct if self.is_attention else self.pair.chosen

    @property
    def rejected_text(self) -> str:
        return self.check_wrong if self.is_attention else self.pair.rejected


def order_for(*, seed: int, pid: str, persona_position: int, question_position: int) -> str:
    """The A/B order a participant sees for a question, from the study's seed and keys that no database assigns
    (the worker's PROLIFIC_PID, the persona's and the question's positions in the study): concurrent first views
    agree, and the same study built with the same seed in another database shows everyone the same orders."""
    digest = hashlib.sha256(f"{seed}:{pid}:{persona_position}:{question_position}".encode()).digest()
    return Order.CHOSEN_FIRST if digest[0] % 2 == 0 else Order.REJECTED_FIRST


class AnswerQuerySet(models.QuerySet["Answer"]):
    def counted(self) -> AnswerQuerySet:
        """Answers of counted raters (see ``counted_rater_q``)."""
        return self.filter(counted_rater_q("participant__"))


class Answer(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    order_shown = models.CharField(max_length=2, choices=Order.choices)
    # A participant picks one answer or the other (a judge may also abstain; a participant may not).
    choice = models.CharField(max_length=8, choices=[(c, Choice(c).label) for c in DECISIVE], blank=True)
    reasoning = models.TextField(blank=True)
    pasted = models.BooleanField(default=False)
    revisions = models.PositiveIntegerField(default=0)
    time_ms = models.PositiveBigIntegerField(default=0)  # time the page was visible, reported by the browser
    first_shown_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "question__position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "question"], name="answer_unique"),
            models.CheckConstraint(condition=Q(order_shown__in=Order.values), name="answer_order_valid"),
            models.CheckConstraint(condition=Q(choice__in=[*DECISIVE, ""]), name="answer_choice_valid"),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk}: {self.choice or '—'}"

    @property
    def letter(self) -> str:
        """The letter (A/B) the participant picked, in the order they saw."""
        return letter_for_choice(choice=self.choice, order=self.order_shown)

    @staticmethod
    def explanation_ok(reasoning: str, *, min_chars: int = 1) -> bool:
        """Whether an explanation is long enough: ``min_chars`` characters besides surrounding blanks, at least one."""
        return len(reasoning.strip()) >= max(1, min_chars)

    @staticmethod
    def answered(choice: str, reasoning: str, *, min_chars: int) -> bool:
        """A complete answer — what the progress bar counts and the final submit asks of every question: a choice
        and an explanation of at least ``min_chars`` (``Question.explanation_min_chars``)."""
        return bool(choice) and Answer.explanation_ok(reasoning, min_chars=min_chars)


class BonusPayment(models.Model):
    """One bulk bonus through Prolific's API, in two recorded steps: set up, then pay (never retried by itself)."""

    class Status(models.TextChoices):
        SETTING_UP = "setting_up", "Setting up"
        SET_UP = "set_up", "Set up, not paid"
        PAYING = "paying", "Pay requested"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Pay outcome unknown (check Prolific)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="bonus_payments")
    csv = models.TextField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SETTING_UP)
    prolific_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    pay_requested_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Bonus payment {self.pk} ({self.get_status_display()})"


# Prolific's side of a study lives in annotation/prolific/models.py; importing it here registers it with the app.
from annotation.prolific.models import ProlificEvent, ProlificSubmission, ProlificWave  # noqa: E402, F401
