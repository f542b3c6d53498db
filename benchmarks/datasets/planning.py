"""The dataset plan: which personas meet which prompts in which split, drawn with the dataset's seed.

Same plan + same seed + same personas and prompts → the same assignment, byte for byte: personas are taken in
public-id order, prompts in text-hash order (both independent of database ids), and each persona's draw uses its
own ``Random(f"{seed}:{public_id}")``. ``plan_digest`` is the sha256 of the assignment lines, so two plans can be
compared without reading the rows.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from benchmarks.datasets.models import DatasetItem, ItemStatus, PersonaScope, PreferenceDataset
from benchmarks.pairs.models import PairSplit
from benchmarks.prompts.models import Prompt, PromptQuerySet, PromptSplit
from core.db_stats import tables_analyze
from core.jobs import JobRun, job_start
from core.models import Job
from personas.models import Persona, PersonaQuerySet
from personas.selectors import personas_filter

DATASET_PLAN_JOB = "benchmarks.dataset_plan"
_BATCH = 5000


class DatasetError(Exception):
    """A dataset request that cannot be carried out; the message is fit to show the coordinator."""


def dataset_personas(dataset: PreferenceDataset) -> PersonaQuerySet:
    """The plan's personas: every consistent persona, or the consistent ones matching the saved filter."""
    queryset = personas_filter(filters=dataset.persona_filter) if dataset.persona_scope == PersonaScope.FILTER else None
    return (queryset if queryset is not None else Persona.objects.all()).consistent()


def dataset_prompts(dataset: PreferenceDataset) -> PromptQuerySet:
    """The plan's prompts: the kept ones, narrowed to the chosen topics."""
    queryset = Prompt.objects.kept()
    if dataset.prompt_topics:
        queryset = queryset.filter(topic__in=dataset.prompt_topics)
    return queryset


@dataclass(frozen=True)
class Assignment:
    persona_id: int
    persona_key: str  # public id
    prompt_id: int
    prompt_key: str  # text sha256
    split: str


def plan_assignments(
    *,
    personas: list[tuple[int, str]],
    train_prompts: list[tuple[int, str]],
    heldout_prompts: list[tuple[int, str]],
    per_split: dict[str, int],
    seed: int,
) -> Iterator[Assignment]:
    """The assignment, persona by persona (pure: ids and keys in, rows out, in a fixed order)."""
    n_train, n_seen, n_unseen = (per_split[s] for s in (PairSplit.TRAIN, PairSplit.TEST_SEEN, PairSplit.TEST_UNSEEN))
    train_sorted = sorted(train_prompts, key=lambda p: p[1])
    heldout_sorted = sorted(heldout_prompts, key=lambda p: p[1])
    for persona_id, persona_key in sorted(personas, key=lambda p: p[1]):
        rng = random.Random(f"{seed}:{persona_key}")
        seen = rng.sample(train_sorted, n_train + n_seen)
        unseen = rng.sample(heldout_sorted, n_unseen)
        for index, (prompt_id, prompt_key) in enumerate(seen):
            split = PairSplit.TRAIN if index < n_train else PairSplit.TEST_SEEN
            yield Assignment(persona_id, persona_key, prompt_id, prompt_key, split)
        for prompt_id, prompt_key in unseen:
            yield Assignment(persona_id, persona_key, prompt_id, prompt_key, PairSplit.TEST_UNSEEN)


def dataset_plan_check(*, dataset: PreferenceDataset, n_personas: int, n_train: int, n_heldout: int) -> None:
    if n_personas == 0:
        raise DatasetError("No consistent persona matches the plan.")
    if dataset.pairs_per_persona == 0:
        raise DatasetError("Ask for at least one pair per persona.")
    needed_train = dataset.train_per_persona + dataset.test_seen_per_persona
    if n_train < needed_train:
        raise DatasetError(
            f"Each persona needs {needed_train} train prompts (train + test_seen) but only {n_train} kept prompts "
            "are in the train split."
        )
    if n_heldout < dataset.test_unseen_per_persona:
        raise DatasetError(
            f"Each persona needs {dataset.test_unseen_per_persona} held-out prompts (test_unseen) but only "
            f"{n_heldout} kept prompts are held out."
        )


def dataset_plan(*, dataset: PreferenceDataset, run: JobRun | None = None) -> int:
    """Write the dataset's assignment rows (replacing an earlier plan nothing was generated for); returns the count."""
    if dataset.items.exclude(status=ItemStatus.PLANNED).exists() or dataset.answers.exists():
        raise DatasetError("Generation has started on this dataset; create a new dataset to change the plan.")
    personas = list(dataset_personas(dataset).values_list("pk", "public_id"))
    personas = [(pk, str(public_id)) for pk, public_id in personas]
    prompts = dataset_prompts(dataset)
    train = list(prompts.filter(split=PromptSplit.TRAIN).values_list("pk", "text_sha256"))
    heldout = list(prompts.filter(split=PromptSplit.HELDOUT).values_list("pk", "text_sha256"))
    dataset_plan_check(dataset=dataset, n_personas=len(personas), n_train=len(train), n_heldout=len(heldout))
    total = len(personas) * dataset.pairs_per_persona
    if run is not None:
        run.set_total(total, already_done=0)
    digest = hashlib.sha256()
    written = 0
    with transaction.atomic():
        dataset.items.all().delete()
        buffer: list[DatasetItem] = []
        for row in plan_assignments(
            personas=personas,
            train_prompts=train,
            heldout_prompts=heldout,
            per_split=dataset.per_split(),
            seed=dataset.seed,
        ):
            digest.update(f"{row.persona_key}\t{row.prompt_key}\t{row.split}\n".encode())
            buffer.append(
                DatasetItem(dataset_id=dataset.pk, persona_id=row.persona_id, prompt_id=row.prompt_id, split=row.split)
            )
            if len(buffer) >= _BATCH:
                written += _write(buffer)
                if run is not None:
                    run.advance(done=len(buffer))
                buffer.clear()
        written += _write(buffer)
        if run is not None and buffer:
            run.advance(done=len(buffer))
        PreferenceDataset.objects.filter(pk=dataset.pk).update(
            planned_at=timezone.now(), plan_digest=digest.hexdigest()
        )
    tables_analyze(DatasetItem)  # up to 317,200 new rows: the next query must not plan for an empty table
    dataset.refresh_from_db()
    return written


def _write(rows: list[DatasetItem]) -> int:
    """Insert plan rows; on PostgreSQL through COPY (the full plan is 317,200 rows), else bulk_create."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        table = DatasetItem._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {table} (dataset_id, persona_id, prompt_id, split, status, critique, failure_stage, "
                "failure_reason, failure_detail) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(
                    (row.dataset_id, row.persona_id, row.prompt_id, row.split, ItemStatus.PLANNED, "", "", "", "")
                )
        return len(rows)
    DatasetItem.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def dataset_plan_start(*, dataset: PreferenceDataset, started_by: Any = None) -> Job:
    return job_start(kind=DATASET_PLAN_JOB, started_by=started_by, params={"dataset_id": dataset.pk})
