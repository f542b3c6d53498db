"""Prompts and preference pairs: the questions annotation studies and judges answer.

A pair with no persona is persona-independent (one prompt, two answers, shown to every persona); a pair with a
persona was written for that person. Uniqueness is (persona, prompt), and — because SQL treats NULLs as distinct —
a separate partial constraint keeps one persona-independent pair per prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F, Q

# PERSONA Bench's models (runs, items, answers, leave-one-out) live in benchmarks/bench/models.py and name prompts
# and pairs by string; importing them here registers them with the app.
from benchmarks.bench.models import BenchAnswer, BenchItem, BenchRun, LooAnswer, LooRevision, LooTwin

# The preference-dataset models (plan, assignment, y_l answers) live in benchmarks/datasets/models.py with the
# pair's split vocabulary; importing them here registers them with the app.
from benchmarks.datasets.models import (
    PAIR_SPLIT_MEANING,
    DatasetAnswer,
    DatasetItem,
    PairSplit,
    PreferenceDataset,
)

# The judging models live in benchmarks/judging/models.py; importing them here registers them with the app, and
# the pair's vocabulary (Order, Choice, DECISIVE) is what annotation's answers use too.
from benchmarks.judging.models import (
    DECISIVE,
    Choice,
    Judge,
    Judgment,
    Order,
    choice_for_letter,
    letter_for_choice,
)
from personas.models import Persona


class PromptSplit(models.TextChoices):
    TRAIN = "train", "Train"
    HELDOUT = "heldout", "Held out"


class ControversyVerdict(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked"
    CONTROVERSIAL = "controversial", "Controversial"
    REJECTED = "rejected", "Rejected"


class PromptSource(models.TextChoices):
    PRISM_CONVERSATIONS = "prism_conversations", "PRISM conversations.jsonl"
    PRISM_CLUSTERS = "prism_clusters", "PRISM cluster CSV"
    FILE = "file", "CSV / JSONL file"
    PAIRS = "pairs", "Imported with pairs"
    DEMO = "demo", "Demo"


class FormCheck(models.TextChoices):
    """The first filter: a question (a question mark) of at least five words."""

    UNCHECKED = "unchecked", "Not checked"
    PASSED = "passed", "Passed"
    NO_QUESTION_MARK = "no_question_mark", "No question mark"
    TOO_SHORT = "too_short", "Fewer than five words"


class TopicOrigin(models.TextChoices):
    NONE = "", "No topic yet"
    SUPPLIED = "supplied", "Supplied by the source"
    CLUSTERED = "clustered", "Clustered (TF-IDF + k-means)"


class VerificationVerdict(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


class PromptQuerySet(models.QuerySet["Prompt"]):
    def kept(self) -> PromptQuerySet:
        """Prompts that passed both filters: the form check and the controversy classifier (or its overrule)."""
        return self.filter(form_check=FormCheck.PASSED, controversy=ControversyVerdict.CONTROVERSIAL)

    def ids_by_digest(self, digests: Iterable[str]) -> dict[str, int]:
        """The stored prompts' ids by text digest (a prompt is its text: the digest is its key)."""
        return dict(self.filter(text_sha256__in=list(digests)).values_list("text_sha256", "pk"))

    def unstored(self, prompts: Iterable[Prompt]) -> list[Prompt]:
        """Of these unsaved prompts, the first of each text not stored yet: what an import has to create."""
        first: dict[str, Prompt] = {}
        for prompt in prompts:
            first.setdefault(prompt.text_sha256, prompt)
        stored = self.ids_by_digest(first)
        return [prompt for digest, prompt in first.items() if digest not in stored]


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
    source = models.CharField(max_length=32, choices=PromptSource.choices, blank=True)
    conversation_type = models.CharField(max_length=64, blank=True)
    topic_origin = models.CharField(max_length=16, choices=TopicOrigin.choices, blank=True)
    form_check = models.CharField(max_length=20, choices=FormCheck.choices, default=FormCheck.UNCHECKED)
    # The classifier's one-line reason (for either verdict); a coordinator's overrule keeps it and sets the flag.
    controversy_reason = models.TextField(blank=True)
    controversy_overruled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PromptQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(split__in=PromptSplit.values), name="prompt_split_valid"),
            models.CheckConstraint(condition=Q(form_check__in=FormCheck.values), name="prompt_form_check_valid"),
            models.CheckConstraint(
                condition=Q(controversy__in=ControversyVerdict.values), name="prompt_controversy_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Prompt {self.pk}: {self.text[:60]}"

    @classmethod
    def from_file(
        cls, *, text: str, source: str, source_id: str = "", topic: str = "", conversation_type: str = "", **fields: Any
    ) -> Prompt:
        """An unsaved prompt read from a file, keyed by its text's digest; a topic it came with is the source's."""
        return cls(
            text=text,
            text_sha256=text_digest(text),
            source_id=source_id,
            topic=topic,
            topic_origin=TopicOrigin.SUPPLIED if topic else TopicOrigin.NONE,
            conversation_type=conversation_type,
            source=source,
            **fields,
        )

    @property
    def filter_reason(self) -> str:
        """Why the prompt is out (the first filter that rejected it), or "kept" / "unchecked"."""
        if self.form_check not in (FormCheck.PASSED, FormCheck.UNCHECKED):
            return self.form_check
        if self.controversy == ControversyVerdict.REJECTED:
            return "not_controversial"
        if self.form_check == FormCheck.PASSED and self.controversy == ControversyVerdict.CONTROVERSIAL:
            return "kept"
        return "unchecked"


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


__all__ = [
    "DECISIVE",
    "PAIR_SPLIT_MEANING",
    "BenchAnswer",
    "BenchItem",
    "BenchRun",
    "Choice",
    "ControversyVerdict",
    "DatasetAnswer",
    "DatasetItem",
    "Judge",
    "Judgment",
    "LooAnswer",
    "LooRevision",
    "LooTwin",
    "Order",
    "PairSplit",
    "PreferenceDataset",
    "PreferencePair",
    "PreferencePairQuerySet",
    "Prompt",
    "PromptSplit",
    "VerificationVerdict",
    "choice_for_letter",
    "letter_for_choice",
    "text_digest",
]
