"""A dataset stage spread over every free worker: what it still has to do, cut into shards that are jobs of their own.

The stage's job (``STAGE_JOBS``) prepares the whole stage (failed items back to waiting, the job's total), reads
what is left and cuts it into contiguous, disjoint ranges of persona ids (of prompt ids for a y_l shared by every
persona) of about ``DATASET_SHARD_ITEMS`` items, cut only between two ids so each persona's requests stay together
for the provider's prompt cache. Each range becomes a shard: a job started with ``parent=`` the stage's job
(``core.jobs``), which any free worker claims, a killed worker's is resumed by the sweep, and which runs the stage
over its range only. Nothing is asked twice (the ranges are disjoint, the writes upserts); the stage's job shows the
sum of its shards' progress and usage and ends with its last shard, failed if a shard failed. A stage with one shard
of work runs inline in its own job, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.stages import (
    STAGE_WAITS_IN,
    Span,
    Stage,
    answer_span_key,
    answers_todo,
    stage_answer_run,
    stage_critique_run,
    stage_prepare,
    stage_revise_run,
)
from benchmarks.datasets.verification import dataset_verify, verification_pairs, verification_prepare
from core.jobs import JobRun, job_start

SHARD_JOB = "benchmarks.dataset_stage_shard"

_STAGE_RUNS: dict[str, Callable[..., Any]] = {
    Stage.ANSWER: stage_answer_run,
    Stage.CRITIQUE: stage_critique_run,
    Stage.REVISE: stage_revise_run,
    Stage.VERIFY: dataset_verify,
}


def spans_cut(keys: Iterable[int], *, size: int) -> list[Span]:
    """Inclusive ranges over ascending ``keys`` (repeats allowed) holding about ``size`` keys each: a range closes at
    the first new key once it holds ``size``, so equal keys (one persona's items) never straddle two ranges."""
    spans: list[Span] = []
    first = last = None
    count = 0
    for key in keys:
        if first is None:
            first = key
        elif key != last and count >= size:
            spans.append((first, last))  # type: ignore[arg-type]
            first, count = key, 0
        last = key
        count += 1
    if first is not None:
        spans.append((first, last))  # type: ignore[arg-type]
    return spans


def _pending_keys(dataset: PreferenceDataset, stage: str) -> list[int]:
    """The span key (persona or prompt id) of every item the stage still has to do, ascending."""
    if stage == Stage.ANSWER:
        todo, _ = answers_todo(dataset)
        return sorted(answer_span_key(key) for key in todo)
    if stage == Stage.VERIFY:
        pairs, _ = verification_pairs(dataset)
        return sorted(persona for persona, _ in pairs)
    waiting = dataset.items.filter(status=STAGE_WAITS_IN[Stage(stage)]).order_by("persona_id")
    return list(waiting.values_list("persona_id", flat=True).iterator(chunk_size=5000))


def stage_spans(*, dataset: PreferenceDataset, stage: str) -> list[Span]:
    """The shards of what ``stage`` still has to do, each about ``DATASET_SHARD_ITEMS`` items."""
    return spans_cut(_pending_keys(dataset, stage), size=settings.DATASET_SHARD_ITEMS)


def stage_job_run(*, dataset: PreferenceDataset, stage: str, job: JobRun) -> None:
    """A stage's job: run the stage inline when it is one shard of work, else start one shard job per span (in one
    transaction, so the first to end cannot end the stage before the others exist) and leave them to the workers."""
    if stage == Stage.VERIFY:
        verification_prepare(dataset=dataset, job=job)
    else:
        stage_prepare(dataset=dataset, stage=stage, job=job)
    spans = stage_spans(dataset=dataset, stage=stage)
    if len(spans) < 2:
        _STAGE_RUNS[stage](dataset=dataset, job=job)
        return
    with transaction.atomic():
        for lo, hi in spans:
            params = {"dataset_id": dataset.pk, "stage": stage, "lo": lo, "hi": hi}
            job_start(kind=SHARD_JOB, params=params, started_by=job.job.started_by, parent=job.job)


def stage_shard_run(*, dataset: PreferenceDataset, job: JobRun) -> None:
    """One shard: the stage named in its parameters, over its span only."""
    params = job.params
    _STAGE_RUNS[params["stage"]](dataset=dataset, job=job, span=(int(params["lo"]), int(params["hi"])))
