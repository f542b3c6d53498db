"""Helpers the study report builds its tables and figures from: per-persona kappa, position bias, and agreement
against coverage (the study's majority vote is ``annotation.services.majority``). All pure functions over arrays;
undefined values are NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.cohen import kappa_from_counts
from benchmarks.agreement.labels import MISSING, encode_labels


@dataclass(frozen=True)
class GroupKappa:
    """Cohen's kappa between two raters within each group (persona): arrays aligned with ``groups`` (sorted ids)."""

    groups: NDArray[Any]
    kappa: NDArray[np.float64]
    n: NDArray[np.int64]
    agreement: NDArray[np.float64]


def per_group_kappa(
    rater_a: ArrayLike,
    rater_b: ArrayLike,
    groups: ArrayLike,
    *,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> GroupKappa:
    """Cohen's kappa of two raters over each group's items that both rated (e.g. one value per persona, for a
    histogram). Groups where kappa is undefined (no overlap, or both used one identical label) are NaN.
    """
    labels = encode_labels(_stack(rater_a, rater_b), categories=categories, missing=missing)
    group_codes, group_ids = pd.factorize(np.asarray(groups), sort=True)
    if group_codes.size != labels.n_items:
        raise ValueError(f"{group_codes.size} group ids for {labels.n_items} items")
    a, b = labels.codes
    both = (a != MISSING) & (b != MISSING) & (group_codes >= 0)
    n_cat = labels.n_categories
    keys = (group_codes[both] * n_cat + a[both]) * n_cat + b[both]
    counts = np.bincount(keys, minlength=len(group_ids) * n_cat * n_cat).reshape(len(group_ids), n_cat, n_cat)
    kappa, agreement = kappa_from_counts(counts)
    return GroupKappa(np.asarray(group_ids), kappa, counts.sum(axis=(1, 2)), agreement)


@dataclass(frozen=True)
class PositionBias:
    """Per rater: how often a decisive choice was the answer shown first.

    ``share_first`` = ``n_first`` / ``n_decisive`` (NaN when a rater made no decisive choice); ``n_other`` counts
    rated items whose choice was not one of the two answers (abstain, invalid); ``p_value`` is the two-sided exact
    binomial test of ``share_first`` = 0.5 (NaN when undefined).
    """

    share_first: NDArray[np.float64]
    n_first: NDArray[np.int64]
    n_decisive: NDArray[np.int64]
    n_other: NDArray[np.int64]
    p_value: NDArray[np.float64]


def position_bias(
    choices: ArrayLike,
    first_shown: ArrayLike,
    *,
    options: tuple[Hashable, Hashable],
    missing: Hashable | None = None,
) -> PositionBias:
    """Position bias of each rater (row of ``choices``; a 1-D array is one rater).

    ``first_shown[i]`` is the option shown first on item i (e.g. ``"chosen"`` when the order was AB and A was the
    chosen answer); ``options`` are the two answers' labels. A choice in ``options`` is decisive; other present
    choices count as ``n_other``; missing choices are ignored.
    """
    labels = encode_labels(choices, missing=missing)
    first = np.asarray(first_shown, dtype=object)
    if first.shape != (labels.n_items,):
        raise ValueError(f"first_shown needs one entry per item ({labels.n_items}), got shape {first.shape}")
    if not set(first.tolist()) <= set(options):
        raise ValueError(f"first_shown must hold only the options {options!r}")
    lookup = {label: code for code, label in enumerate(labels.categories)}
    option_codes = [lookup.get(option, -2) for option in options]  # -2: an option nobody chose
    first_codes = np.where(first == options[0], option_codes[0], option_codes[1]).astype(np.intp)
    decisive = np.isin(labels.codes, option_codes)
    picked_first = decisive & (labels.codes == first_codes[np.newaxis, :])
    n_first = picked_first.sum(axis=1).astype(np.int64)
    n_decisive = decisive.sum(axis=1).astype(np.int64)
    n_other = (labels.rated & ~decisive).sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_decisive > 0, n_first / np.maximum(n_decisive, 1), np.nan)
    from scipy import stats  # imported here: scipy.stats is slow to import and only this helper needs it

    p_value = np.array(
        [stats.binomtest(int(k), int(n), 0.5).pvalue if n else np.nan for k, n in zip(n_first, n_decisive, strict=True)]
    )
    return PositionBias(share, n_first, n_decisive, n_other, p_value)


@dataclass(frozen=True)
class CoverageCurve:
    """Agreement between a rater and a reference on the rater's most confident items.

    Point k keeps the items with confidence ≥ ``threshold[k]`` (thresholds descending, ties kept together):
    ``n[k]`` items, ``coverage[k]`` = n / items eligible (both labelled, confidence present), ``agreement[k]`` the raw
    agreement and ``kappa[k]`` Cohen's kappa on them (NaN when undefined).
    """

    threshold: NDArray[np.float64]
    coverage: NDArray[np.float64]
    n: NDArray[np.int64]
    agreement: NDArray[np.float64]
    kappa: NDArray[np.float64]


def agreement_coverage(
    rater: ArrayLike,
    reference: ArrayLike,
    confidence: ArrayLike,
    *,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> CoverageCurve:
    """Agreement vs coverage: sort items by the rater's confidence (highest first) and accumulate agreement with the
    reference. Items missing either label or the confidence (NaN) are left out of the curve and of its denominator.
    """
    labels = encode_labels(_stack(rater, reference), categories=categories, missing=missing)
    conf = np.asarray(confidence, dtype=np.float64)
    if conf.shape != (labels.n_items,):
        raise ValueError(f"confidence needs one entry per item ({labels.n_items}), got shape {conf.shape}")
    a, b = labels.codes.astype(np.intp)
    eligible = (a != MISSING) & (b != MISSING) & ~np.isnan(conf)
    a, b, conf = a[eligible], b[eligible], conf[eligible]
    order = np.argsort(-conf, kind="stable")
    a, b, conf = a[order], b[order], conf[order]
    n_cat = labels.n_categories
    cells = np.zeros((conf.size, n_cat * n_cat), dtype=np.int64)
    cells[np.arange(conf.size), a * n_cat + b] = 1
    cumulative = np.cumsum(cells, axis=0)
    ends = np.flatnonzero(np.append(conf[1:] != conf[:-1], True)) if conf.size else np.array([], dtype=np.intp)
    tables = cumulative[ends].reshape(-1, n_cat, n_cat)
    kappa, agreement = kappa_from_counts(tables)
    n = (ends + 1).astype(np.int64)
    coverage = n / conf.size if conf.size else np.array([], dtype=np.float64)
    return CoverageCurve(conf[ends], coverage, n, agreement, kappa)


def _stack(first: ArrayLike, second: ArrayLike) -> NDArray[Any]:
    rows = [np.asarray(first), np.asarray(second)]
    if any(row.dtype.kind not in "fiub" for row in rows):
        rows = [row.astype(object) for row in rows]
    return np.vstack(rows)
