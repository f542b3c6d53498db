"""Fleiss' kappa: chance-corrected agreement among a fixed number of raters per item (statsmodels' estimator).

κ = (P̄ - P̄_e) / (1 - P̄_e), where P̄ is the mean share of agreeing rater pairs per item and P̄_e the agreement
expected from the pooled category shares (``method="fleiss"``) or from uniform shares (``method="randolph"``, the
free-marginal kappa). The raters need not be the same people on every item, but every item must have the same
number of ratings.

Undefined cases are NaN, never 0: no item left, fewer than two ratings per item, or P̄_e = 1 (every rating the
same single label under ``method="fleiss"``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.labels import MISSING, LabelMatrix, encode_labels


def item_counts(labels: LabelMatrix) -> NDArray[np.int64]:
    """Items x categories table: how many raters gave each category to each item (missing ratings not counted)."""
    n_cat = labels.n_categories
    rater_idx, item_idx = np.nonzero(labels.codes != MISSING)
    keys = item_idx * n_cat + labels.codes[rater_idx, item_idx]
    return np.bincount(keys, minlength=labels.n_items * n_cat).reshape(labels.n_items, n_cat).astype(np.int64)


def fleiss_table(
    ratings: ArrayLike | LabelMatrix,
    *,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
    drop_incomplete: bool = False,
) -> NDArray[np.int64]:
    """Items x categories count table for Fleiss' kappa (the layout of statsmodels' ``aggregate_raters``).

    Raises ``ValueError`` when items have different numbers of ratings, unless ``drop_incomplete`` is set, which keeps
    only the items with the largest number of ratings (the complete ones, when every rater could rate every item).
    Items nobody rated are always dropped.
    """
    labels = encode_labels(ratings, categories=categories, missing=missing)
    table = item_counts(labels)
    per_item = table.sum(axis=1)
    table = table[per_item > 0]
    per_item = per_item[per_item > 0]
    if per_item.size and (per_item != per_item.max()).any():
        if not drop_incomplete:
            raise ValueError(
                f"Fleiss' kappa needs equal ratings per item; got {per_item.min()}-{per_item.max()} "
                "(pass drop_incomplete=True to keep only the items with the most ratings)"
            )
        table = table[per_item == per_item.max()]
    return table


def fleiss_kappa(
    ratings: ArrayLike | LabelMatrix,
    *,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
    drop_incomplete: bool = False,
    method: Literal["fleiss", "randolph"] = "fleiss",
) -> float:
    """Fleiss' kappa of a raters x items matrix (equal ratings per item), computed by statsmodels. NaN if undefined."""
    table = fleiss_table(ratings, categories=categories, missing=missing, drop_incomplete=drop_incomplete)
    return fleiss_kappa_from_table(table, method=method)


def fleiss_kappa_from_table(table: ArrayLike, *, method: Literal["fleiss", "randolph"] = "fleiss") -> float:
    """Fleiss' kappa of an items x categories count table; NaN where it is undefined (see the module docstring)."""
    counts = np.asarray(table, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] == 0 or counts.sum() == 0:
        return float("nan")
    per_item = counts.sum(axis=1)
    if per_item.max() < 2 or counts.shape[1] < 1:
        return float("nan")
    if method == "fleiss":
        shares = counts.sum(axis=0) / counts.sum()
        if np.isclose((shares * shares).sum(), 1.0, rtol=0, atol=1e-15):
            return float("nan")
    elif counts.shape[1] < 2:
        return float("nan")
    from statsmodels.stats import inter_rater  # imported here: statsmodels takes seconds to import

    return float(inter_rater.fleiss_kappa(counts, method=method))


def fleiss_kappa_varying(table: ArrayLike) -> float:
    """Fleiss' kappa for a varying number of ratings per item (Gwet 2014, *Handbook of Inter-Rater Reliability*,
    ch. 2; the form irrCAC's ``fleiss.kappa.raw`` computes). Equals the classic Fleiss' kappa when every item has the
    same number of ratings, and keeps every item otherwise (no item is dropped because a rater was excluded).

    ``table`` is items x categories counts. Observed agreement is the mean, over items with at least two ratings, of
    the share of agreeing rating pairs; the category shares average each item's shares over items with at least one
    rating. NaN when no item has two ratings or the expected agreement is 1.
    """
    counts = np.asarray(table, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return float("nan")
    per_item = counts.sum(axis=1)
    rated, paired = per_item >= 1, per_item >= 2
    if not paired.any():
        return float("nan")
    pairs = per_item[paired] * (per_item[paired] - 1)
    observed = float(((counts[paired] * (counts[paired] - 1)).sum(axis=1) / pairs).mean())
    shares = (counts[rated] / per_item[rated, np.newaxis]).mean(axis=0)
    expected = float((shares * shares).sum())
    if np.isclose(expected, 1.0, rtol=0, atol=1e-15):
        return float("nan")
    return (observed - expected) / (1 - expected)
