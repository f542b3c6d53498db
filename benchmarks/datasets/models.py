"""A preference dataset: the saved plan, its assignment rows (one per persona x prompt) and the shared y_l answers.

Each stage's output is keyed by (dataset, persona, prompt, stage): y_l lives in ``DatasetAnswer`` (one per prompt,
or one per pair when ``answer_per_pair``), the critique on the ``DatasetItem``, and y_w becomes the item's
``PreferencePair`` (unique per dataset, persona and prompt). A re-run or a redelivered task finds its work done.

Prompts and pairs are named by string; the pair's split vocabulary lives beside the pair (``benchmarks.pairs.models``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from benchmarks.pairs.models import PairSplit
from core.models import UserCreatedModel
from personas.models import Persona


class DatasetOrigin(models.TextChoices):
    PLANNED = "planned", "Planned and generated here"
    IMPORTED = "imported", "Imported from a file"


class PersonaScope(models.TextChoices):
    CONSISTENT = "consistent", "All consistent personas"
    FILTER = "filter", "Consistent personas matching a filter"


class PreferenceDataset(UserCreatedModel):
    """What to build: which personas and prompts, how many pairs per persona and split, which models, which seeds."""

    name = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=DatasetOrigin.choices, default=DatasetOrigin.PLANNED)
    persona_scope = models.CharField(max_length=16, choices=PersonaScope.choices, default=PersonaScope.CONSISTENT)
    # Attribute filters as the persona list takes them ({"attribute": key, "value": text}, …); used with FILTER.
    persona_filter = models.JSONField(default=dict, blank=True)
    # Topics to draw prompts from ([] = every kept prompt).
    prompt_topics = models.JSONField(default=list, blank=True)
    train_per_persona = models.PositiveIntegerField(default=100)
    test_seen_per_persona = models.PositiveIntegerField(default=50)
    test_unseen_per_persona = models.PositiveIntegerField(default=50)
    generator = models.ForeignKey(
        "core.ModelEndpoint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verifier = models.ForeignKey("benchmarks.Judge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seed = models.BigIntegerField(default=0)
    answer_per_pair = models.BooleanField(
        default=False, help_text="Sample one y_l per pair instead of one per prompt reused across personas."
    )
    length_tolerance = models.FloatField(
        default=0.10, help_text="How much longer than y_l a revision may be (0.10 = 10 %)."
    )
    use_batch = models.BooleanField(
        default=True, help_text="Send stages through the provider's batch API when it has one (Anthropic)."
    )
    verify_sample = models.PositiveIntegerField(
        null=True, blank=True, help_text="Verify a seeded sample of this many pairs (blank = every pair)."
    )
    planned_at = models.DateTimeField(null=True, blank=True)
    plan_digest = models.CharField(max_length=64, blank=True, help_text="sha256 of the assignment, in order.")

    class Meta(UserCreatedModel.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(origin__in=DatasetOrigin.values), name="dataset_origin_valid"),
            models.CheckConstraint(condition=Q(length_tolerance__gte=0), name="dataset_tolerance_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def pairs_per_persona(self) -> int:
        return self.train_per_persona + self.test_seen_per_persona + self.test_unseen_per_persona

    def per_split(self) -> dict[str, int]:
        return {
            PairSplit.TRAIN: self.train_per_persona,
            PairSplit.TEST_SEEN: self.test_seen_per_persona,
            PairSplit.TEST_UNSEEN: self.test_unseen_per_persona,
        }


class DatasetAnswer(models.Model):
    """y_l: the generator's answer to the prompt alone; persona is null when one answer serves every persona."""

    dataset = models.ForeignKey(PreferenceDataset, on_delete=models.CASCADE, related_name="answers")
    prompt = models.ForeignKey("benchmarks.Prompt", on_delete=models.CASCADE, related_name="+")
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "prompt"], condition=Q(persona__isnull=True), name="dataset_answer_unique_shared"
            ),
            models.UniqueConstraint(
                fields=["dataset", "prompt", "persona"],
                condition=Q(persona__isnull=False),
                name="dataset_answer_unique_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"y_l {self.dataset_id}:{self.prompt_id}:{self.persona_id or '*'}"


class ItemStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CRITIQUED = "critiqued", "Critiqued"
    DONE = "done", "Pair written"
    FAILED = "failed", "Failed"


class DatasetItem(models.Model):
    """One persona x prompt of the plan, its split, the critique, and the pair once the revision passed."""

    dataset = models.ForeignKey(PreferenceDataset, on_delete=models.CASCADE, related_name="items")
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey("benchmarks.Prompt", on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=16, choices=PairSplit.choices)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.PLANNED)
    critique = models.TextField(blank=True)
    failure_stage = models.CharField(max_length=16, blank=True)
    failure_reason = models.CharField(max_length=32, blank=True)
    failure_detail = models.TextField(blank=True)
    pair = models.OneToOneField(
        "benchmarks.PreferencePair", null=True, blank=True, on_delete=models.SET_NULL, related_name="item"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "persona", "prompt"], name="dataset_item_unique"),
            models.CheckConstraint(condition=Q(split__in=PairSplit.values), name="dataset_item_split_valid"),
            models.CheckConstraint(condition=Q(status__in=ItemStatus.values), name="dataset_item_status_valid"),
        ]
        indexes = [models.Index(fields=["dataset", "status", "persona"], name="dataset_item_stage_scan")]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.persona_id}:{self.prompt_id} {self.status}"
