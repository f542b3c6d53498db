"""Bench runs and what they store: sampled items, each method's answers with the critic's verdict, and the
leave-one-out twins, revisions and judgments. Every row has a deterministic unique key, so a resumed job upserts.

This module imports nothing from ``benchmarks.models`` (which imports it): prompts and pairs are named by string.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from core.models import UserCreatedModel
from personas.models import Persona


class Evaluation(models.TextChoices):
    PERSONALIZATION = "personalization", "Personalization (methods + critic)"
    LEAVE_ONE_OUT = "leave_one_out", "Leave-one-out attribute influence"


class Method(models.TextChoices):
    BASELINE = "baseline", "Baseline (no persona)"
    PERSONA = "persona", "Persona (answer only)"
    CHAIN_OF_THOUGHT = "chain_of_thought", "Chain of thought"
    DEMOGRAPHIC_SUMMARY = "demographic_summary", "Demographic summary"


class Verdict(models.TextChoices):
    PENDING = "pending", "Not judged yet"
    PASS = "pass", "Pass"
    REVISE = "needs_revision", "Needs revision"
    INVALID = "invalid", "Invalid critic reply"
    NO_ANSWER = "no_answer", "No usable answer"


# Verdicts that count in a pass rate and pass@k: the decisive ones. Pending answers are not judged yet; an invalid
# critic reply or an unusable answer is no verdict on the answer (counted in its own column, asked again by a
# re-run), so a group with no decisive verdict has an undefined rate, never 0.
DECISIVE_VERDICTS = (Verdict.PASS, Verdict.REVISE)


class BenchRun(UserCreatedModel):
    """A saved, validated config (see ``benchmarks.bench.config``) and the job that runs it."""

    name = models.CharField(max_length=200)
    evaluation = models.CharField(max_length=16, choices=Evaluation.choices, default=Evaluation.PERSONALIZATION)
    config = models.JSONField(help_text="The normalised config (endpoint names already mapped).")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(UserCreatedModel.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(evaluation__in=Evaluation.values), name="benchrun_evaluation_valid")
        ]

    def __str__(self) -> str:
        return f"Bench run {self.pk}: {self.name}"


class BenchItem(models.Model):
    """One sampled (persona, question); ``pair`` when it came from a preference pair's test split."""

    run = models.ForeignKey(BenchRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey("benchmarks.Prompt", on_delete=models.CASCADE, related_name="+")
    pair = models.ForeignKey(
        "benchmarks.PreferencePair", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="benchitem_unique_position"),
            models.UniqueConstraint(fields=["run", "persona", "prompt"], name="benchitem_unique_persona_prompt"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.position}"


class BenchAnswer(models.Model):
    """Sample ``sample`` of one model's answer to one item with one method, and the critic's verdict on it."""

    run = models.ForeignKey(BenchRun, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(BenchItem, on_delete=models.CASCADE, related_name="answers")
    endpoint = models.ForeignKey("core.ModelEndpoint", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=24, choices=Method.choices)
    sample = models.PositiveSmallIntegerField(default=0)
    answer = models.TextField(blank=True)
    # The method's intermediate text: chain-of-thought reasoning or the demographic summary ("" for the others).
    intermediate = models.TextField(blank=True)
    answer_raw = models.TextField(blank=True, help_text="The reply as received (never rendered as HTML).")
    answer_error = models.TextField(blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, default=Verdict.PENDING)
    critic_reasoning = models.TextField(blank=True)
    personalization_critique = models.TextField(blank=True)
    helpfulness_critique = models.TextField(blank=True)
    critic_raw = models.TextField(blank=True)
    critic_error = models.TextField(blank=True)
    # Times the critic was asked about this answer: an invalid reply is asked again by a re-run, up to
    # ``LLM_INVALID_RETRIES`` more times.
    critic_attempts = models.PositiveSmallIntegerField(default=0)
    # Summary analysis (demographic_summary only): profile labels the summary dropped; null = not analysed yet.
    dropped_attributes = models.JSONField(null=True, blank=True)
    summary_error = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "item", "endpoint", "method", "sample"]
        constraints = [
            models.UniqueConstraint(fields=["item", "endpoint", "method", "sample"], name="benchanswer_unique"),
            models.CheckConstraint(condition=Q(method__in=Method.values), name="benchanswer_method_valid"),
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="benchanswer_verdict_valid"),
        ]
        indexes = [models.Index(fields=["run", "verdict"], name="benchanswer_run_verdict")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.endpoint_id}:{self.method}:{self.sample} {self.verdict}"

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASS


class LooVariant(models.TextChoices):
    WITHOUT = "without", "Without the attribute"
    WITH = "with", "With the attribute"


class LooTwin(models.Model):
    """Leave-one-out: a persona cut to a few attributes without ``attribute`` and its twin with it added."""

    run = models.ForeignKey(BenchRun, on_delete=models.CASCADE, related_name="loo_twins")
    attribute = models.CharField(max_length=64)
    index = models.PositiveSmallIntegerField()
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="+")
    without_attributes = models.JSONField(help_text="The attributes kept (the twin adds ``attribute``).")
    with_attributes = models.JSONField()

    class Meta:
        ordering = ["run", "attribute", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "attribute", "index"], name="lootwin_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.attribute}:{self.index}"

    def attributes_for(self, variant: str) -> dict[str, object]:
        return self.with_attributes if variant == LooVariant.WITH else self.without_attributes


class LooAnswer(models.Model):
    """A fixed baseline answer (y_l) to one of the run's leave-one-out questions."""

    run = models.ForeignKey(BenchRun, on_delete=models.CASCADE, related_name="loo_answers")
    prompt = models.ForeignKey("benchmarks.Prompt", on_delete=models.CASCADE, related_name="+")
    text = models.TextField(blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "prompt"]
        constraints = [models.UniqueConstraint(fields=["run", "prompt"], name="looanswer_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.prompt_id}"


class LooRevision(models.Model):
    """One variant's critique and revision of a baseline answer, and the variant's judgment of the two revisions."""

    twin = models.ForeignKey(LooTwin, on_delete=models.CASCADE, related_name="revisions")
    variant = models.CharField(max_length=8, choices=LooVariant.choices)
    answer = models.ForeignKey(LooAnswer, on_delete=models.CASCADE, related_name="revisions")
    critique = models.TextField(blank=True)
    revision = models.TextField(blank=True)
    ok = models.BooleanField(default=False)
    reason = models.CharField(max_length=32, blank=True)
    # The variant, role-played, picks between the two twins' revisions: "without" / "with" / "invalid"; "" = not yet.
    choice = models.CharField(max_length=8, blank=True)
    judge_raw = models.TextField(blank=True)
    # Picks asked so far: an "invalid" one is asked again by a re-run while this is at most LLM_INVALID_RETRIES.
    judge_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["twin", "answer", "variant"]
        constraints = [
            models.UniqueConstraint(fields=["twin", "variant", "answer"], name="loorevision_unique"),
            models.CheckConstraint(condition=Q(variant__in=LooVariant.values), name="loorevision_variant_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.twin_id}:{self.variant}:{self.answer_id}"
