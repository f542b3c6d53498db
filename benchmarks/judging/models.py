"""Judges and their judgments, and the vocabulary of a pick between a pair's two answers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from personas.models import Persona


class Order(models.TextChoices):
    """Which answer of a pair was shown as A (``Judgment.order``, ``Answer.order_shown``)."""

    CHOSEN_FIRST = "AB", "Chosen shown as A"
    REJECTED_FIRST = "BA", "Rejected shown as A"


class Choice(models.TextChoices):
    """A pick between a pair's two answers. Participants give only the decisive two; a judge may also abstain or
    give a reply that cannot be read."""

    CHOSEN = "chosen", "Chosen (y_w)"
    REJECTED = "rejected", "Rejected (y_l)"
    ABSTAIN = "abstain", "Can't tell"
    INVALID = "invalid", "Invalid reply"


# The two labels agreement statistics are computed over (a pick of one answer or the other).
DECISIVE = (Choice.CHOSEN.value, Choice.REJECTED.value)


def choice_for_letter(*, letter: str, order: str) -> str:
    """The pair's answer behind letter "A" or "B" when the pair was shown in ``order``."""
    return Choice.CHOSEN if (letter == "A") == (order == Order.CHOSEN_FIRST) else Choice.REJECTED


def letter_for_choice(*, choice: str, order: str) -> str:
    """The letter ("A"/"B") a decisive ``choice`` was shown under in ``order``; "" for anything else."""
    if choice not in DECISIVE:
        return ""
    return "A" if (choice == Choice.CHOSEN) == (order == Order.CHOSEN_FIRST) else "B"


class Judge(models.Model):
    """An endpoint + the role-play prompt + how many samples per item (offline baselines are judges too)."""

    name = models.SlugField(max_length=64, unique=True)
    endpoint = models.ForeignKey("core.ModelEndpoint", on_delete=models.PROTECT, related_name="judges")
    samples = models.PositiveSmallIntegerField(default=1, help_text="Replies per item and order.")
    with_confidence = models.BooleanField(default=True, help_text="Ask for a confidence from 0 to 100.")
    allow_abstain = models.BooleanField(default=True, help_text='Allow an explicit "can\'t tell".')
    instructions = models.TextField(blank=True, help_text="Extra instructions appended to the role-play prompt.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(samples__gte=1), name="judge_samples_positive")]
        # Running a judge makes paid model calls: its own permission, held by coordinators (not analysts).
        permissions = [("run_judges", "Can run judges (paid model calls)")]

    def __str__(self) -> str:
        return self.name


class JudgmentQuerySet(models.QuerySet["Judgment"]):
    def decisive(self) -> JudgmentQuerySet:
        return self.filter(choice__in=DECISIVE)


class Judgment(models.Model):
    """One reply of a judge, as the persona, to one pair shown in one order (sample s of ``judge.samples``)."""

    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="judgments")
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="judgments")
    pair = models.ForeignKey("benchmarks.PreferencePair", on_delete=models.CASCADE, related_name="judgments")
    order = models.CharField(max_length=2, choices=Order.choices)
    sample = models.PositiveSmallIntegerField(default=0)
    choice = models.CharField(max_length=8, choices=Choice.choices)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    reasoning = models.TextField(blank=True)
    raw = models.TextField(blank=True, help_text="The reply as received (never rendered as HTML).")
    error = models.TextField(blank=True, help_text="Why the reply is invalid.")
    stop_reason = models.CharField(
        max_length=32, blank=True, help_text="Why the model stopped (e.g. length: cut off at max_tokens)."
    )
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_s = models.FloatField(default=0.0)
    # Times the reply was asked for: an invalid one is kept and asked again by a re-run (``LLM_INVALID_RETRIES``).
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JudgmentQuerySet.as_manager()

    class Meta:
        ordering = ["judge", "persona", "pair", "order", "sample"]
        constraints = [
            models.UniqueConstraint(fields=["judge", "persona", "pair", "order", "sample"], name="judgment_unique"),
            models.CheckConstraint(condition=Q(order__in=Order.values), name="judgment_order_valid"),
            models.CheckConstraint(condition=Q(choice__in=Choice.values), name="judgment_choice_valid"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__lte=100), name="judgment_confidence_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.judge_id}:{self.persona_id}:{self.pair_id}:{self.order}:{self.sample} {self.choice}"

    @property
    def key(self) -> tuple[int, int, str, int]:
        return (self.persona_id, self.pair_id, self.order, self.sample)

    @property
    def picked_first(self) -> bool | None:
        """Whether the judge picked the answer shown first (None when it picked neither)."""
        letter = letter_for_choice(choice=self.choice, order=self.order)
        return (letter == "A") if letter else None
