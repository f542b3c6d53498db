"""Preference pairs: the questions annotation studies and judges answer, their split and the batches they arrive in.

A pair with no persona is persona-independent (one prompt, two answers, shown to every persona); a pair with a
persona was written for that person. Uniqueness is (persona, prompt), and — because SQL treats NULLs as distinct —
a separate partial constraint keeps one persona-independent pair per prompt.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from benchmarks.prompts.models import ControversyVerdict, Prompt
from personas.models import Persona


class VerificationVerdict(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


class PairSplit(models.TextChoices):
    """A pair's split; what each means is in ``PAIR_SPLIT_MEANING`` (shown on the dataset page and in the card)."""

    TRAIN = "train", "Train"
    TEST_SEEN = "test_seen", "Test (seen prompts)"
    TEST_UNSEEN = "test_unseen", "Test (unseen prompts)"


PAIR_SPLIT_MEANING = {
    PairSplit.TRAIN: "pairs for training, on prompts from the train split of the prompts",
    PairSplit.TEST_SEEN: "held-out pairs on prompts from the train split (the prompt text was seen in training, "
    "never this persona's pair for it)",
    PairSplit.TEST_UNSEEN: "pairs on held-out prompts, which no persona meets in train or test_seen",
}


class PairBatch(models.Model):
    """One arrival of pairs (an uploaded file, the demo): coordinators pick a study's questions by batch."""

    name = models.CharField(max_length=200, unique=True)
    file_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


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
    # The import that last wrote the pair (None: written before batches were recorded, or by hand).
    batch = models.ForeignKey(PairBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs")
    # The generated dataset the pair belongs to (null: imported or written by hand, one per persona and prompt).
    dataset = models.ForeignKey(
        "benchmarks.PreferenceDataset", null=True, blank=True, on_delete=models.CASCADE, related_name="pairs"
    )
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
                fields=["persona", "prompt"],
                condition=Q(persona__isnull=False, dataset__isnull=True),
                name="pair_unique_persona_prompt",
            ),
            models.UniqueConstraint(
                fields=["dataset", "persona", "prompt"],
                condition=Q(dataset__isnull=False),
                name="pair_unique_dataset_persona_prompt",
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
