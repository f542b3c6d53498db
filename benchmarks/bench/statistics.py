"""Pure statistics of a bench run (no ORM): the unbiased pass@k estimator and persona-clustered pass-rate intervals.

pass@k (Chen et al., 2021): with n samples of which c pass, the chance that at least one of k drawn without
replacement passes is 1 - C(n-c, k) / C(n, k). It is computed as 1 - prod_{j<k} (n-c-j)/(n-j), vectorised over items,
which never forms the binomials (no overflow at n = 64, k = 16). Undefined for k > n (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.bootstrap import DEFAULT_RESAMPLES, group_draws


def pass_at_k(n: ArrayLike, c: ArrayLike, k: int) -> NDArray[np.float64]:
    """The unbiased pass@k of every item (arrays of samples n and passes c); NaN where k > n."""
    n_arr = np.asarray(n, dtype=np.float64)
    c_arr = np.asarray(c, dtype=np.float64)
    if np.any(c_arr > n_arr) or np.any(c_arr < 0):
        raise ValueError("passes c must lie between 0 and the samples n")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ratio = np.ones_like(n_arr)
    for j in range(k):
        ratio *= np.clip(n_arr - c_arr - j, 0, None) / np.where(n_arr - j > 0, n_arr - j, np.inf)
    return np.where(n_arr >= k, 1.0 - ratio, np.nan)


def pass_at_k_curve(n: ArrayLike, c: ArrayLike, k_max: int) -> NDArray[np.float64]:
    """Mean pass@k over items for k = 1..k_max (items with fewer than k samples left out of that k's mean)."""
    values = np.array([pass_at_k(n, c, k) for k in range(1, k_max + 1)])
    with np.errstate(invalid="ignore"):
        counts = (~np.isnan(values)).sum(axis=1)
        sums = np.nansum(values, axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


@dataclass(frozen=True)
class Rate:
    """A share with its persona-clustered bootstrap percentile interval; NaN when there is nothing to count."""

    estimate: float
    low: float
    high: float
    n: int
    successes: int
    groups: int


def pass_rate(
    passed: ArrayLike,
    groups: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Rate:
    """Share of ``passed`` (booleans, one per judged answer) with a 95 % interval that resamples personas.

    Each resample draws as many personas as there are, with replacement, and keeps all of a drawn persona's answers
    (``benchmarks.agreement.bootstrap.group_draws``, the same draws the agreement intervals use).
    """
    values = np.asarray(passed, dtype=np.float64)
    if values.size == 0:
        return Rate(float("nan"), float("nan"), float("nan"), 0, 0, 0)
    codes, draws = group_draws(groups, n_resamples=n_resamples, seed=seed)
    n_groups = draws.shape[1]
    sums = np.bincount(codes, weights=values, minlength=n_groups)
    sizes = np.bincount(codes, minlength=n_groups).astype(np.float64)
    # How often each resample drew each persona: one bincount over (resample, persona) cells.
    cells = (draws + n_groups * np.arange(n_resamples)[:, np.newaxis]).ravel()
    weights = np.bincount(cells, minlength=n_resamples * n_groups).reshape(n_resamples, n_groups).astype(np.float64)
    resampled = (weights @ sums) / (weights @ sizes)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Rate(float(values.mean()), float(low), float(high), int(values.size), int(values.sum()), n_groups)
