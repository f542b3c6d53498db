"""Leave-one-out majorities: compare each rater with the vote of the *other* raters, never with a vote that
contains their own.

A human compared with a majority that includes their vote agrees with it by construction (in a 4-rater study the
pooled kappa of human vs majority was 0.692 with the human included and 0.222 without). The like-for-like design:

- for every rater r and item i, ``leave_one_out_majority`` gives the majority of the others' votes on i;
- a human's figure pools the (human's label, leave-one-out majority) pairs over every rater and item;
- a judge is scored against exactly the same references — the judge's label on item i paired with each rater's
  leave-one-out majority on i, for the (rater, item) pairs the humans contribute — so both figures weigh the same
  items the same way and differ only in who answers.

``paired_tables`` turns two aligned label arrays into one contingency table per group (persona), so the pooled
kappa is ``kappa_from_counts(tables.sum(0))`` and a cluster bootstrap resamples whole personas
(``bootstrap.bootstrap_tables``). Pure functions over arrays; undefined is NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.labels import MISSING, LabelMatrix, encode_labels
from benchmarks.agreement.report import majority_vote


@dataclass(frozen=True)
class LeaveOneOutMajority:
    """Per rater (row) and item (column): the others' vote on that item.

    ``codes`` is the winning category code or ``MISSING``; ``status`` is ``majority_vote``'s status of the others'
    vote (``"majority"``, ``"tie"``, ``"no_majority"``, ``"no_votes"`` when nobody else rated the item);
    ``n_others`` is how many of the others voted.
    """

    codes: NDArray[np.intp]
    status: NDArray[np.object_]
    n_others: NDArray[np.int64]
    categories: tuple[Any, ...]


def leave_one_out_majority(
    ratings: ArrayLike | LabelMatrix,
    *,
    threshold: int | None = None,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> LeaveOneOutMajority:
    """The majority of the other raters for every rater and item (``majority_vote`` with the rater's row removed).

    ``threshold=None`` asks for a strict majority of the others' votes (more than half); ``threshold=k`` for at least
    k of them. Rows are the raters of one pool (e.g. the raters of one persona, or rater positions across personas
    when every persona has its own items).
    """
    labels = encode_labels(ratings, categories=categories, missing=missing)
    shape = labels.codes.shape
    codes = np.full(shape, MISSING, dtype=np.intp)
    status = np.empty(shape, dtype=object)
    n_others = np.zeros(shape, dtype=np.int64)
    for rater in range(labels.n_raters):
        others = labels.codes.copy()
        others[rater] = MISSING
        vote = majority_vote(LabelMatrix(others, labels.categories), threshold=threshold)
        codes[rater], status[rater], n_others[rater] = vote.codes, vote.status, vote.n_votes
    return LeaveOneOutMajority(codes, status, n_others, labels.categories)


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
