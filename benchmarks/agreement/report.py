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
from benchmarks.agreement.labels import MISSING, LabelMatrix, encode_labels
from benchmarks.agreement.leave_one_out import paired_tables


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
    labels, a, b = _paired_codes(rater_a, rater_b, categories=categories, missing=missing)
    group_of = np.asarray(groups)
    if group_of.size != labels.n_items:
        raise ValueError(f"{group_of.size} group ids for {labels.n_items} items")
    counts, group_ids = paired_tables(a, b, group_of, n_categories=labels.n_categories)
    kappa, agreement = kappa_from_counts(counts)
    return GroupKappa(group_ids, kappa, counts.sum(axis=(1, 2)), agreement)


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
class ItemPositionBias:
    """Position bias of one rater tested per item, not per reply.

    A judge answers each item several times (samples x both A/B orders); those replies share the item and are not
    independent, so a binomial test over replies overstates the evidence. Here each item is one observation: it
    favours the first-shown answer when more than half of its decisive replies picked it, the second when fewer
    did, and is balanced at exactly half (an order-consistent judge is balanced on every item judged in both
    orders). ``p_value`` is the exact two-sided sign test of favour_first vs favour_second (balanced items carry
    no sign); ``share_first`` (pooled over replies) and ``mean_item_share`` are descriptive.
    """

    share_first: float
    mean_item_share: float
    n_items: int  # items with at least one decisive reply
    n_replies: int  # decisive replies
    n_other: int  # replies that were neither option (abstain, invalid)
    favour_first: int
    favour_second: int
    balanced: int
    p_value: float


def position_bias_by_item(
    choices: ArrayLike,
    first_shown: ArrayLike,
    items: ArrayLike,
    *,
    options: tuple[Hashable, Hashable],
) -> ItemPositionBias:
    """Per-item position bias of one rater from its replies (one entry per reply: its choice, the option shown
    first, and the item it belongs to); missing choices (None) are ignored."""
    choice = np.asarray(choices, dtype=object)
    first = np.asarray(first_shown, dtype=object)
    item = np.asarray(items)
    if not (choice.shape == first.shape == item.shape) or choice.ndim != 1:
        raise ValueError("choices, first_shown and items need one entry per reply")
    if not set(first.tolist()) <= set(options):
        raise ValueError(f"first_shown must hold only the options {options!r}")
    present = np.array([c is not None for c in choice.tolist()], dtype=bool)
    decisive = present & np.isin(choice, np.array(options, dtype=object))
    picked_first = decisive & (choice == first)
    codes, _ = pd.factorize(item[decisive], sort=True)
    n_first = np.bincount(codes, weights=picked_first[decisive].astype(np.float64)) if codes.size else np.zeros(0)
    n_decisive = np.bincount(codes).astype(np.float64) if codes.size else np.zeros(0)
    item_share = n_first / np.maximum(n_decisive, 1)
    favour_first, favour_second = int((item_share > 0.5).sum()), int((item_share < 0.5).sum())
    from scipy import stats  # imported here: scipy.stats is slow to import

    signed = favour_first + favour_second
    return ItemPositionBias(
        share_first=float(picked_first.sum() / decisive.sum()) if decisive.any() else float("nan"),
        mean_item_share=float(item_share.mean()) if item_share.size else float("nan"),
        n_items=int(item_share.size),
        n_replies=int(decisive.sum()),
        n_other=int((present & ~decisive).sum()),
        favour_first=favour_first,
        favour_second=favour_second,
        balanced=int((item_share == 0.5).sum()),
        p_value=float(stats.binomtest(favour_first, signed, 0.5).pvalue) if signed else float("nan"),
    )


@dataclass(frozen=True)
class OrderConsistency:
    """How often a rater answered an item the same way in both A/B orders.

    ``n`` items were answered in both orders; ``consistent`` of them got the same decisive label in both;
    ``inconsistent`` = n - consistent (the pick flipped with the order, or one order abstained or was invalid).
    ``share`` = consistent / n (NaN when n = 0).
    """

    share: float
    consistent: int
    inconsistent: int
    n: int


def order_consistency(
    first_order: ArrayLike, second_order: ArrayLike, *, options: tuple[Hashable, Hashable]
) -> OrderConsistency:
    """Order consistency over the items answered in both orders (None = not answered in that order)."""
    a = np.asarray(first_order, dtype=object)
    b = np.asarray(second_order, dtype=object)
    if a.shape != b.shape:
        raise ValueError("both orders need one entry per item")
    both = np.array([x is not None and y is not None for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
    same = both & (a == b) & np.isin(a, np.array(options, dtype=object))
    n, consistent = int(both.sum()), int(same.sum())
    return OrderConsistency(consistent / n if n else float("nan"), consistent, n - consistent, n)


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
    labels, a, b = _paired_codes(rater, reference, categories=categories, missing=missing)
    conf = np.asarray(confidence, dtype=np.float64)
    if conf.shape != (labels.n_items,):
        raise ValueError(f"confidence needs one entry per item ({labels.n_items}), got shape {conf.shape}")
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


def _paired_codes(
    first: ArrayLike, second: ArrayLike, *, categories: Sequence[Hashable] | None, missing: Hashable | None
) -> tuple[LabelMatrix, NDArray[np.intp], NDArray[np.intp]]:
    """Two raters' labels encoded together (so both share one set of categories) and each one's codes as ``intp``
    (``MISSING`` where unrated)."""
    rows = [np.asarray(first), np.asarray(second)]
    if any(row.dtype.kind not in "fiub" for row in rows):
        rows = [row.astype(object) for row in rows]
    labels = encode_labels(np.vstack(rows), categories=categories, missing=missing)
    a, b = labels.codes.astype(np.intp)
    return labels, a, b
