"""Cluster bootstrap confidence intervals: resample personas (groups of items), not single items.

Items that share a persona are correlated (one persona's questions are answered by the same raters with the same
profile), so resampling items one by one would give intervals that are too narrow. Each resample draws as many groups
as there are, with replacement, and keeps every item of each drawn group (a group drawn twice counts twice). The
interval is the percentile interval of the resampled statistic, from a seeded ``numpy.random.Generator``, so the
same call gives the same interval.

Undefined cases: resamples where the statistic is NaN (e.g. a pair with no overlap in that resample) are left out and
counted in ``n_valid``; when no resample is defined, or the estimate itself is undefined, the bounds are NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.cohen import kappa_from_counts, pairwise_counts
from benchmarks.agreement.labels import LabelMatrix, encode_labels

# Resamples a bootstrap draws unless its caller names a number. A report's figures should name theirs
# (``annotation.reports.intervals``, ``benchmarks.bench.results``), so changing this changes no published interval.
DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class ConfidenceInterval:
    """A point estimate with its bootstrap percentile interval; array fields when the statistic is an array."""

    estimate: Any
    low: Any
    high: Any
    confidence: float
    n_resamples: int
    n_valid: Any  # resamples in which the statistic was defined (per element for array statistics)


def group_draws(groups: ArrayLike, *, n_resamples: int, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Group code of every item (0..G-1, sorted group ids) and a (n_resamples, G) array of drawn group codes."""
    codes, uniques = pd.factorize(np.asarray(groups), sort=True)
    if (codes < 0).any():
        raise ValueError("every item needs a group id (no None/NaN in groups)")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(uniques), size=(n_resamples, len(uniques)))
    return codes.astype(np.intp), draws


def group_weights(n_groups: int, *, n_resamples: int, seed: int, dtype: type = np.int64) -> NDArray[Any]:
    """How often each group is drawn in each resample (n_resamples x n_groups): ``group_draws``' resamples (the
    generator gives the same stream drawn one resample at a time; ``tests/benchmarks`` holds it), counted as they are
    drawn so the draws themselves are never held (6 MB per bootstrap at 1,586 personas and 500 resamples)."""
    rng = np.random.default_rng(seed)
    weights: NDArray[Any] = np.empty((n_resamples, n_groups), dtype=dtype)
    for b in range(n_resamples):
        weights[b] = np.bincount(rng.integers(0, n_groups, size=n_groups), minlength=n_groups)
    return weights


@dataclass(frozen=True)
class _Clusters:
    """Encoded labels with their items laid out by group: group g's items are ``order[bounds[g] : bounds[g + 1]]``;
    ``draws`` are ``group_draws``' (n_resamples x G group codes)."""

    labels: LabelMatrix
    order: NDArray[np.intp]
    bounds: NDArray[np.int64]
    draws: NDArray[np.intp]


def _clusters(
    ratings: ArrayLike | LabelMatrix,
    groups: ArrayLike,
    *,
    n_resamples: int,
    seed: int,
    categories: Sequence[Hashable] | None,
    missing: Hashable | None,
) -> _Clusters:
    """What both label-matrix bootstraps start from: the labels encoded once, the items laid out by group, the draws."""
    labels = encode_labels(ratings, categories=categories, missing=missing)
    item_groups, draws = group_draws(groups, n_resamples=n_resamples, seed=seed)
    if item_groups.size != labels.n_items:
        raise ValueError(f"{item_groups.size} group ids for {labels.n_items} items")
    order = np.argsort(item_groups, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(item_groups, minlength=draws.shape[1]))])
    return _Clusters(labels, order, bounds, draws)


def bootstrap_ci(
    statistic: Callable[[LabelMatrix], Any],
    ratings: ArrayLike | LabelMatrix,
    groups: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> ConfidenceInterval:
    """Cluster-bootstrap percentile interval of ``statistic`` (a function of a ``LabelMatrix``: float or array).

    ``groups`` gives each item's persona id (one entry per column of ``ratings``). Labels are encoded once, so every
    resample has the same categories even when a label drops out of it.
    """
    clusters = _clusters(ratings, groups, n_resamples=n_resamples, seed=seed, categories=categories, missing=missing)
    labels, draws = clusters.labels, clusters.draws
    sizes, starts = np.diff(clusters.bounds), clusters.bounds[:-1]
    estimate = np.asarray(statistic(labels), dtype=np.float64)
    samples = np.empty((n_resamples, *estimate.shape), dtype=np.float64)
    for b in range(n_resamples):
        picked_sizes = sizes[draws[b]]
        offsets = np.arange(picked_sizes.sum()) - np.repeat(np.cumsum(picked_sizes) - picked_sizes, picked_sizes)
        items = clusters.order[np.repeat(starts[draws[b]], picked_sizes) + offsets]
        samples[b] = statistic(labels.take(items))
    return _percentile_interval(estimate, samples, confidence)


def bootstrap_pairwise_kappa(
    ratings: ArrayLike | LabelMatrix,
    groups: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> ConfidenceInterval:
    """Cluster-bootstrap intervals for the whole pairwise Cohen's kappa matrix at once (fields are raters x raters).

    Same resamples and result as ``bootstrap_ci(lambda m: pairwise_kappa(m).kappa, ...)`` with the same seed, but each
    group's contingency tables are computed once and a resample's tables are a weighted sum of them, so a thousand
    resamples cost one matrix product.
    """
    clusters = _clusters(ratings, groups, n_resamples=0, seed=seed, categories=categories, missing=missing)
    labels, order, bounds = clusters.labels, clusters.order, clusters.bounds
    n_groups = clusters.draws.shape[1]
    per_group = np.stack(
        [pairwise_counts(labels.take(order[bounds[g] : bounds[g + 1]])) for g in range(n_groups)]
    ).reshape(n_groups, -1)
    weights = group_weights(n_groups, n_resamples=n_resamples, seed=seed, dtype=np.float64)
    resampled = np.rint(weights @ per_group.astype(np.float64)).astype(np.int64)
    shape = (labels.n_raters, labels.n_raters, labels.n_categories, labels.n_categories)
    samples, _ = kappa_from_counts(resampled.reshape(n_resamples, *shape))
    estimate, _ = kappa_from_counts(per_group.sum(axis=0).reshape(shape))
    return _percentile_interval(estimate, samples, confidence)


def _percentile_interval(
    estimate: NDArray[np.float64], samples: NDArray[np.float64], confidence: float
) -> ConfidenceInterval:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = (1 - confidence) / 2 * 100
    n_valid = (~np.isnan(samples)).sum(axis=0)
    if samples.shape[0] == 0:
        low = high = np.full(estimate.shape, np.nan)
    else:
        with warnings.catch_warnings():
            # All-NaN elements (never defined in any resample) come out NaN, which is what we report.
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    undefined = np.isnan(estimate) | (n_valid == 0)
    low = np.where(undefined, np.nan, low)
    high = np.where(undefined, np.nan, high)
    if estimate.ndim == 0:
        return ConfidenceInterval(float(estimate), float(low), float(high), confidence, len(samples), int(n_valid))
    return ConfidenceInterval(estimate, low, high, confidence, len(samples), n_valid)


def bootstrap_tables(
    tables: ArrayLike,
    *,
    statistic: Callable[[NDArray[np.int64]], NDArray[np.float64]] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Cluster bootstrap of a statistic of summed contingency tables, resampling whole groups (personas).

    ``tables`` is groups x ... x C x C (e.g. from ``leave_one_out.paired_tables``); each resample draws as many
    groups as there are, with replacement, and sums their tables. ``statistic`` maps summed tables
    (resamples x ... x C x C) to one value per resample (resamples x ...); the default is Cohen's kappa of each
    table. The draws are ``group_draws``' (the same seed gives the same resamples as ``bootstrap_ci``).
    """
    counts = np.asarray(tables, dtype=np.int64)
    n_groups = counts.shape[0]
    weights = group_weights(n_groups, n_resamples=n_resamples, seed=seed)
    resampled = np.tensordot(weights, counts, axes=(1, 0)) if n_resamples else counts[:0]
    compute = statistic or (lambda summed: kappa_from_counts(summed)[0])
    estimate = np.asarray(compute(counts.sum(axis=0)[np.newaxis]), dtype=np.float64)[0]
    samples = np.asarray(compute(resampled), dtype=np.float64).reshape(n_resamples, *estimate.shape)
    return _percentile_interval(estimate, samples, confidence)


def bootstrap_group_values(
    values: ArrayLike,
    *,
    statistic: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Bootstrap of a statistic of one value per group (e.g. each twin's own kappa), resampling whole groups.

    Each resample draws as many groups as there are, with replacement (``group_draws``' draws: the same seed draws
    the same groups as ``bootstrap_ci``). ``statistic`` maps a resamples x groups array to one value per resample
    (e.g. ``np.nanmedian(values, axis=1)``); a group whose value is undefined is NaN, for the statistic to leave
    out, and a resample whose statistic is NaN is not counted in ``n_valid``.
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    _, draws = group_draws(np.arange(array.size), n_resamples=n_resamples, seed=seed)
    estimate = np.asarray(statistic(array[np.newaxis]), dtype=np.float64).reshape(1)[0]
    samples = np.asarray(statistic(array[draws]), dtype=np.float64).reshape(n_resamples)
    return _percentile_interval(np.asarray(estimate), samples, confidence)


MIN_GROUPS_FOR_INTERVAL = 10
MIN_DEFINED_SHARE = 0.95


@dataclass(frozen=True)
class ReportableInterval:
    """What a report may print for a bootstrap interval: the bounds, or None with the reason in words."""

    low: float | None
    high: float | None
    n_valid: int
    n_resamples: int
    reason: str  # empty when the interval is shown
    # False when it was refused before any resample counted (too few groups): then "500 of 500 defined" would read
    # as if an interval had been drawn from them.
    resamples_counted: bool = True

    def columns(self) -> dict[str, Any]:
        """The columns an interval fills in a report table: its bounds (None when not shown), how many resamples
        were defined (empty when none counted) and why no interval is shown (empty when one is)."""
        return {
            "ci_low": self.low,
            "ci_high": self.high,
            "ci_resamples_defined": f"{self.n_valid} of {self.n_resamples}" if self.resamples_counted else "",
            "ci_note": self.reason,
        }


def reportable_interval(
    interval: ConfidenceInterval,
    *,
    n_groups: int,
    min_groups: int = MIN_GROUPS_FOR_INTERVAL,
    min_defined_share: float = MIN_DEFINED_SHARE,
) -> ReportableInterval:
    """An interval a reader can defend, or none and why.

    With fewer than ``min_groups`` personas a percentile bootstrap has too few clusters to mean anything; and when
    the statistic is undefined in many resamples, the percentiles describe only the resamples where it happened to
    be defined (conditioning on definedness), so below ``min_defined_share`` no interval is shown either. The
    count of defined resamples is always kept so the report can print it.
    """
    n_valid, n_resamples = int(np.asarray(interval.n_valid)), int(interval.n_resamples)
    if n_groups < min_groups:
        reason = (
            f"no interval: {n_groups} persona{'s' if n_groups != 1 else ''} "
            f"(at least {min_groups} needed for a bootstrap over personas)"
        )
    elif n_resamples == 0 or n_valid < min_defined_share * n_resamples:
        reason = (
            f"no interval: defined in only {n_valid} of {n_resamples} resamples "
            f"(at least {min_defined_share:.0%} needed)"
        )
    elif np.isnan(interval.low) or np.isnan(interval.high):
        reason = "no interval: the statistic is undefined"
    else:
        return ReportableInterval(float(interval.low), float(interval.high), n_valid, n_resamples, "")
    return ReportableInterval(None, None, n_valid, n_resamples, reason, resamples_counted=n_groups >= min_groups)
