"""Studies and judges from a dataset: the persona x pair selection of one dataset split."""

from __future__ import annotations

import random

from django.db.models import Count

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.pairs.models import PairSplit, PreferencePair, PreferencePairQuerySet
from personas.models import Persona


def dataset_pair_pool(*, dataset: PreferenceDataset, split: str) -> PreferencePairQuerySet:
    """The pairs a study or judge may draw from: the split's usable pairs (failed verification left out)."""
    if split not in PairSplit.values:
        raise ValueError(f"unknown split {split!r}")
    return PreferencePair.objects.filter(dataset=dataset, split=split).usable()


def dataset_study_personas(
    *, dataset: PreferenceDataset, split: str, min_pairs: int, sample_size: int | None = None, seed: int = 0
) -> list[Persona]:
    """Usable personas with at least ``min_pairs`` usable pairs in the split (``dataset_pair_pool``), optionally a
    seeded sample of them."""
    counts = (
        dataset_pair_pool(dataset=dataset, split=split)
        .order_by()
        .values("persona_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=min_pairs)
        .values("persona_id")
    )
    ids = list(Persona.objects.usable().filter(pk__in=counts).order_by("pk").values_list("pk", flat=True))
    if sample_size is not None and sample_size < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample_size))
    return list(Persona.objects.filter(pk__in=ids).order_by("pk"))


def dataset_judge_items(*, dataset: PreferenceDataset, split: str) -> list[tuple[int, int]]:
    """(persona, pair) items for a judge run over one split of the dataset."""
    return list(dataset_pair_pool(dataset=dataset, split=split).order_by("pk").values_list("persona_id", "pk"))


# A "dataset" pair source for the study builder's source registry (``pair_source_register`` in
# ``benchmarks/pair_sources.py``): the values a coordinator can pick and the pairs a value selects. Combined with
# the builder's "split" source this is "a dataset and its split".
def dataset_source_options() -> list[tuple[str, str, int]]:
    """(value, label, pairs) for every dataset that has pairs, newest first."""
    rows = PreferenceDataset.objects.annotate(n=Count("pairs")).filter(n__gt=0).order_by("-created_at", "-id")
    return [(str(dataset.pk), dataset.name, dataset.n) for dataset in rows]


def dataset_source_select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
    """The pairs of the dataset ``value`` (its primary key); nothing for a value that is not one."""
    return pairs.filter(dataset_id=int(value)) if value.isdigit() else pairs.none()
