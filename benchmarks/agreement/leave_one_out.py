"""Leave-one-out majorities: compare each rater with the vote of the *other* raters, never with a vote that
contains their own.

A human compared with a majority that includes their vote agrees with it by construction (in a 4-rater study the
pooled kappa of human vs majority was 0.692 with the human included and 0.222 without). The like-for-like design:

- for every rater r and item i, the reference is the majority of the others' votes on i (computed by the one
  majority rule of the study, ``annotation.services.majority``, over the others' votes);
- a human's figure pools the (human's label, leave-one-out majority) pairs over every rater and item;
- a judge is scored against exactly the same references — the judge's label on item i paired with each rater's
  leave-one-out majority on i, for the (rater, item) pairs the humans contribute — so both figures weigh the same
  items the same way and differ only in who answers.

``paired_tables`` turns two aligned label arrays into one contingency table per group (persona), so the pooled
kappa is ``kappa_from_counts(tables.sum(0))`` and a cluster bootstrap resamples whole personas
(``bootstrap.bootstrap_tables``). Pure functions over arrays; undefined is NaN, never 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.labels import MISSING


def paired_tables(
    first: ArrayLike,
    second: ArrayLike,
    groups: ArrayLike,
    *,
    n_categories: int,
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """One ``n_categories`` x ``n_categories`` contingency table per group of the pairs (first, second).

    ``first`` and ``second`` are aligned arrays of category codes (``MISSING`` = no label; any shape, e.g. raters x
    items); ``groups`` has the same shape or broadcasts to it (e.g. one persona id per item). Pairs with a missing
    side are not counted. Returns the tables (groups x C x C, rows = ``first``) and the sorted group ids.
    """
    a = np.asarray(first, dtype=np.intp)
    b = np.asarray(second, dtype=np.intp)
    if a.shape != b.shape:
        raise ValueError(f"first and second need the same shape, got {a.shape} and {b.shape}")
    group_of = np.broadcast_to(np.asarray(groups), a.shape)
    codes, ids = pd.factorize(group_of.ravel(), sort=True)
    a, b = a.ravel(), b.ravel()
    both = (a != MISSING) & (b != MISSING) & (codes >= 0)
    keys = (codes[both] * n_categories + a[both]) * n_categories + b[both]
    size = len(ids) * n_categories * n_categories
    tables = np.bincount(keys, minlength=size).reshape(len(ids), n_categories, n_categories).astype(np.int64)
    return tables, np.asarray(ids)
