"""Read-side helpers for persona pages: filtered querysets and the census comparison of a dataset."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from personas.attributes import ATTRIBUTE_BY_KEY
from personas.census_comparison import AttributeComparison, dataset_compare
from personas.models import CensusDataset, Persona, PersonaQuerySet


def personas_filter(*, filters: dict[str, Any]) -> PersonaQuerySet:
    queryset = Persona.objects.select_related("dataset")
    for field in ("status", "source", "split", "dataset"):
        if filters.get(field):
            queryset = queryset.filter(**{field: filters[field]})
    key, value = filters.get("key"), (filters.get("value") or "").strip()
    if key in ATTRIBUTE_BY_KEY:
        queryset = queryset.with_attribute(key, value) if value else queryset.filter(**{"attributes__has_key": key})
    elif value and value != "-":
        queryset = queryset.with_any_attribute(value)
    return queryset


def personas_select(
    *,
    filters: dict[str, Any] | None = None,
    ids: Sequence[int] | None = None,
    sample_size: int | None = None,
    seed: int = 0,
) -> PersonaQuerySet:
    """The personas a study may use: an explicit list (``ids``) or all that match ``filters`` (the persona list's
    filters), pruned ones never; then, if ``sample_size`` is smaller, a sample drawn with ``seed`` (same seed and
    same matches → same people). In id order; a queryset, so a preview can count without loading thousands."""
    queryset = personas_filter(filters=filters or {}).usable().order_by("id")
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    if sample_size is not None:
        matching = list(queryset.values_list("pk", flat=True))
        if sample_size < len(matching):
            queryset = queryset.filter(pk__in=random.Random(seed).sample(matching, sample_size))
    return queryset


def dataset_comparison(
    *, dataset: CensusDataset, include_pruned: bool = False, keys: list[str] | None = None
) -> list[AttributeComparison]:
    """Compare the dataset's personas (consistent ones unless ``include_pruned``) with its weighted marginals."""
    personas = Persona.objects.filter(dataset=dataset)
    if not include_pruned:
        personas = personas.consistent()
    attributes = list(personas.values_list("attributes", flat=True))
    wanted = keys if keys is not None else list(ATTRIBUTE_BY_KEY)
    ordered = {key: dataset.marginals[key] for key in wanted if key in dataset.marginals}
    return dataset_compare(ordered, attributes)


def comparison_csv_rows(comparisons: list[AttributeComparison]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["attribute", "category", "persona_count", "persona_share", "census_share", "tvd", "chi2", "dof", "p_value"]
    ]
    for comparison in comparisons:
        chi = comparison.chi_square
        for category, count, persona_share, census_share in comparison.rows():
            rows.append(
                [
                    comparison.key,
                    category,
                    count,
                    f"{persona_share:.6f}",
                    f"{census_share:.6f}",
                    f"{comparison.tvd:.6f}",
                    f"{chi.statistic:.4f}" if chi else "",
                    chi.dof if chi else "",
                    f"{chi.p_value:.6g}" if chi else "",
                ]
            )
    return rows
