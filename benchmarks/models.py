"""Prompts and preference pairs: the questions annotation studies and judges answer.

A pair with no persona is persona-independent (one prompt, two answers, shown to every persona); a pair with a
persona was written for that person. Uniqueness is (persona, prompt), and — because SQL treats NULLs as distinct —
a separate partial constraint keeps one persona-independent pair per prompt.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import F, Q

from personas.models import Persona


class PromptSplit(models.TextChoices):
    TRAIN = "train", "Train"
    HELDOUT = "heldout", "Held out"


class ControversyVerdict(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked"
    CONTROVERSIAL = "controversial", "Controversial"
    REJECTED = "rejected", "Rejected"


class PairSplit(models.TextChoices):
    TRAIN = "train", "Train"
    TEST_SEEN = "test_seen", "Test (seen personas)"
    TEST_UNSEEN = "test_unseen", "Test (unseen personas)"


class VerificationVerdict(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


class Prompt(models.Model):
    text = models.TextField()
    # sha256 of the stripped text: imports find an existing prompt by it instead of comparing long texts.
    text_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    source_id = models.CharField(max_length=128, blank=True, db_index=True)
    topic = models.CharField(max_length=128, blank=True)
    split = models.CharField(max_length=8, choices=PromptSplit.choices, default=PromptSplit.TRAIN)
    controversy = models.CharField(
        max_length=16, choices=ControversyVerdict.choices, default=ControversyVerdict.UNCHECKED
    )
    reject_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(split__in=PromptSplit.values), name="prompt_split_valid"),
            models.CheckConstraint(
                condition=Q(controversy__in=ControversyVerdict.values), name="prompt_controversy_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Prompt {self.pk}: {self.text[:60]}"


class PreferencePairQuerySet(models.QuerySet["PreferencePair"]):
    def usable(self) -> PreferencePairQuerySet:
        """Pairs a study may show: not failed verification, prompt not rejected as non-controversial."""
        return self.exclude(verification=VerificationVerdict.FAILED).exclude(
            prompt__controversy=ControversyVerdict.REJECTED
        )

    def for_persona(self, persona: Persona) -> PreferencePairQuerySet:
        return self.filter(Q(persona=persona) | Q(persona__isnull=True))


class PreferencePair(models.Model):
    """A prompt with the answer the persona prefers (chosen, y_w) and the one it does not (rejected, y_l)."""

    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.CASCADE, related_name="preference_pairs"
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="pairs")
    rejected = models.TextField()
    critique = models.TextField(blank=True)
    chosen = models.TextField()
    split = models.CharField(max_length=16, choices=PairSplit.choices, default=PairSplit.TRAIN)
    verification = models.CharField(
        max_length=16, choices=VerificationVerdict.choices, default=VerificationVerdict.UNCHECKED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PreferencePairQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["persona", "prompt"], condition=Q(persona__isnull=False), name="pair_unique_persona_prompt"
            ),
            models.UniqueConstraint(
                fields=["prompt"], condition=Q(persona__isnull=True), name="pair_unique_independent_prompt"
            ),
            models.CheckConstraint(condition=Q(split__in=PairSplit.values), name="pair_split_valid"),
            models.CheckConstraint(
                condition=Q(verification__in=VerificationVerdict.values), name="pair_verification_valid"
            ),
            models.CheckConstraint(condition=~Q(chosen=F("rejected")), name="pair_answers_differ"),
        ]

    def __str__(self) -> str:
        who = f"persona {self.persona_id}" if self.persona_id else "any persona"
        return f"Pair {self.pk} ({who}): {self.prompt.text[:50]}"


from benchmarks.bench.models import BenchAnswer, BenchItem, BenchRun, LooAnswer, LooRevision, LooTwin  # noqa: E402,F401
from benchmarks.judging.models import Judge, Judgment, ReportSnapshot  # noqa: E402,F401
