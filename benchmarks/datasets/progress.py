"""Reading a dataset's generation: its jobs, each stage's progress and the failed items by reason."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q

from benchmarks.datasets.export import DATASET_EXPORT_JOB
from benchmarks.datasets.generation import RevisionFailure
from benchmarks.datasets.models import ItemStatus, PreferenceDataset
from benchmarks.datasets.planning import DATASET_PLAN_JOB
from benchmarks.datasets.stages import STAGE_JOBS, Stage
from core.models import Job


def dataset_jobs(dataset: PreferenceDataset) -> models.QuerySet[Job]:
    """Every stage job of the dataset, newest first (their cost and tokens are the dataset's spend)."""
    kinds = [*STAGE_JOBS.values(), DATASET_PLAN_JOB, DATASET_EXPORT_JOB]
    return Job.objects.filter(kind__in=kinds, params__dataset_id=dataset.pk)


@dataclass(frozen=True)
class StageProgress:
    stage: str
    label: str
    total: int
    done: int
    failed: int


def dataset_progress(dataset: PreferenceDataset) -> list[StageProgress]:
    """Per stage: items (or answers) it must produce, those produced, those that failed it."""
    counts = dataset.items.aggregate(
        total=Count("pk"),
        critiqued=Count(
            "pk", filter=Q(status__in=[ItemStatus.CRITIQUED, ItemStatus.DONE]) | Q(failure_stage=Stage.REVISE)
        ),
        done=Count("pk", filter=Q(status=ItemStatus.DONE)),
        failed_answer=Count("pk", filter=Q(failure_stage=Stage.ANSWER)),
        failed_critique=Count("pk", filter=Q(failure_stage=Stage.CRITIQUE)),
        failed_revise=Count("pk", filter=Q(failure_stage=Stage.REVISE)),
    )
    answers_needed = (
        counts["total"] if dataset.answer_per_pair else dataset.items.values("prompt_id").distinct().count()
    )
    return [
        StageProgress(
            Stage.ANSWER, Stage.ANSWER.label, answers_needed, dataset.answers.count(), counts["failed_answer"]
        ),
        StageProgress(
            Stage.CRITIQUE, Stage.CRITIQUE.label, counts["total"], counts["critiqued"], counts["failed_critique"]
        ),
        StageProgress(Stage.REVISE, Stage.REVISE.label, counts["total"], counts["done"], counts["failed_revise"]),
    ]


def dataset_failures(dataset: PreferenceDataset) -> list[tuple[str, str, int]]:
    """(stage, reason label, count) of the failed items, most frequent first."""
    labels = dict(RevisionFailure.choices)
    rows = (
        dataset.items.filter(status=ItemStatus.FAILED)
        .values_list("failure_stage", "failure_reason")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return [
        (Stage(stage).label if stage in Stage.values else stage, labels.get(reason, reason), n)
        for stage, reason, n in rows
    ]
