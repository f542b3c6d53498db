"""Krippendorff's alpha, written here (the PyPI ``krippendorff`` package is GPL-3.0, our licence Apache-2.0).

alpha = 1 - D_o / D_e: observed disagreement within items over the disagreement expected by pairing values at random
across items. Computed from the coincidence matrix o_ck = Σ_u (number of c-k pairs of ratings in item u) / (m_u - 1),
where m_u is the number of ratings of item u; items with fewer than two ratings are not pairable and are ignored, so
any pattern of missing ratings is handled. Reference: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".

Levels of measurement set the distance δ²(c, k): nominal [c ≠ k]; interval (c - k)²; ratio ((c - k)/(c + k))²;
ordinal (Σ_{g=c..k} n_g - (n_c + n_k)/2)² with n_g the pairable count of value g. Interval, ratio and ordinal need
numeric labels; ordinal ranks them in numeric order.

Undefined cases are NaN, never 0: no pairable ratings, or D_e = 0 (every pairable rating has the same value).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.fleiss import item_counts
from benchmarks.agreement.labels import LabelMatrix, encode_labels

Level = Literal["nominal", "ordinal", "interval", "ratio"]


def coincidence_matrix(labels: LabelMatrix) -> NDArray[np.float64]:
    """Categories x categories coincidences o_ck over the pairable items (those with ≥ 2 ratings)."""
    counts = item_counts(labels).astype(np.float64)
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    counts, per_item = counts[pairable], per_item[pairable]
    weighted = counts / (per_item - 1)[:, np.newaxis]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def krippendorff_alpha(
    ratings: ArrayLike | LabelMatrix, *, level: Level = "nominal", missing: Hashable | None = None
) -> float:
    """Krippendorff's alpha of a raters x items matrix with any missing ratings; NaN when undefined."""
    labels = encode_labels(ratings, missing=missing)
    o = coincidence_matrix(labels)
    n_c = o.sum(axis=0)
    n = n_c.sum()
    if n == 0:
        return float("nan")
    delta = _distances(labels.categories, n_c, level)
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return float("nan")
    return float(1.0 - (n - 1) * (o * delta).sum() / expected)


def _distances(categories: tuple[object, ...], n_c: NDArray[np.float64], level: Level) -> NDArray[np.float64]:
    size = len(categories)
    if level == "nominal":
        return 1.0 - np.eye(size)
    try:
        values = np.array([float(c) for c in categories])  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{level} alpha needs numeric labels, got {categories!r}") from error
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        total = np.add.outer(values, values)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(total == 0, 0.0, np.subtract.outer(values, values) / total)
        return ratio**2
    if level == "ordinal":
        order = np.argsort(values, kind="stable")
        ranked = n_c[order]
        cumulative = np.concatenate([[0.0], np.cumsum(ranked)])
        lo = np.minimum.outer(np.arange(size), np.arange(size))
        hi = np.maximum.outer(np.arange(size), np.arange(size))
        sums = cumulative[hi + 1] - cumulative[lo] - (ranked[lo] + ranked[hi]) / 2
        delta_ranked = sums**2
        inverse = np.empty(size, dtype=np.intp)
        inverse[order] = np.arange(size)
        return delta_ranked[np.ix_(inverse, inverse)]
    raise ValueError(f"unknown level of measurement {level!r}")
