"""Prompts: the questions preference pairs, studies and bench runs are built on; a prompt is its text (its digest
is its key), with the filters' verdicts, its topic and its split."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q


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
