"""Cohen's kappa for every pair of raters, vectorised, over the items each pair both rated.

Cohen's kappa is chance-corrected agreement between two raters: κ = (p_o - p_e) / (1 - p_e), where p_o is the
share of items on which they agree and p_e the agreement expected if each rater labelled independently with their
own label shares. It is computed exactly as ``sklearn.metrics.cohen_kappa_score`` does (1 - observed disagreement /
expected disagreement), so the two agree to floating-point rounding.

Undefined cases are NaN, never 0:

- no overlap (the pair rated no item in common): n = 0, kappa, agreement and shares are NaN;
- expected disagreement is 0, which happens exactly when both raters used one and the same label on every shared
  item (p_e = 1): kappa is NaN (sklearn warns and returns its ``replace_undefined_by``, NaN by default), while raw
  agreement is 1.

A rater who used one label while the other used several is *defined*: κ = 0 (p_o = p_e), as in sklearn.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import ThreadpoolController

from benchmarks.agreement.labels import LabelMatrix, encode_labels, one_hot
from benchmarks.agreement.scratch import scratch


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's kappa for every ordered pair of raters (matrices are symmetric except ``shares``).

    - ``kappa[a, b]``: Cohen's kappa over the items both a and b rated (NaN when undefined);
    - ``n[a, b]``: number of those items (the diagonal is how many items each rater rated);
    - ``agreement[a, b]``: raw share of those items with the same label (NaN when n = 0);
    - ``shares[a, b, c]``: share of those items to which rater **a** gave ``categories[c]``; rater b's shares on the
      same items are ``shares[b, a]``;
    - ``counts[a, b]``: the contingency table (rows a's labels, columns b's labels).
    """

    raters: tuple[str, ...]
    categories: tuple[Any, ...]
    kappa: NDArray[np.float64]
    n: NDArray[np.int64]
    agreement: NDArray[np.float64]
    shares: NDArray[np.float64]
    counts: NDArray[np.int64]

    def records(self) -> list[dict[str, Any]]:
        """One row per unordered pair (a before b, in rater order), ready for a table, CSV or JSON."""
        rows: list[dict[str, Any]] = []
        for a in range(len(self.raters)):
            for b in range(a + 1, len(self.raters)):
                row: dict[str, Any] = {
                    "rater_a": self.raters[a],
                    "rater_b": self.raters[b],
                    "n": int(self.n[a, b]),
                    "kappa": _none_if_nan(self.kappa[a, b]),
                    "agreement": _none_if_nan(self.agreement[a, b]),
                }
                for c, label in enumerate(self.categories):
                    row[f"share_a_{label}"] = _none_if_nan(self.shares[a, b, c])
                    row[f"share_b_{label}"] = _none_if_nan(self.shares[b, a, c])
                rows.append(row)
        return rows


SMALL_ITEMS = 1 << 12
"""Up to this many items a single BLAS product is fastest (per-persona tables in the bootstrap); above, bitsets."""

WORDS_PER_CHUNK = 1 << 13
"""64-bit words (524,288 items) per bitset chunk: bounds the temporaries whatever the number of items."""

_blas_controller: ThreadpoolController | None = None


def single_threaded_blas() -> AbstractContextManager[object]:
    """Limit BLAS to one thread for the small products of ``pairwise_counts``.

    Multi-threaded OpenBLAS gains nothing on products this small and collapses when the CPU is shared (figures in
    the README's benchmark section). The controller is created once (it inspects the loaded libraries); limiting is
    then cheap.
    """
    global _blas_controller  # one lazily built controller per process
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def pairwise_counts(labels: LabelMatrix, *, method: Literal["auto", "bitset", "matmul"] = "auto") -> NDArray[np.int64]:
    """Contingency tables for all rater pairs at once: ``counts[a, b, i, j]`` = items a labelled i and b labelled j.

    Each (rater, label) becomes an indicator row over the items; a pair's table cell is the size of the intersection
    of two rows. Missing ratings are zeros in every row of that rater, which restricts each pair to the items both
    rated. Two exact ways to count the intersections:

    - ``"bitset"``: rows packed 64 items per word, cells by AND + popcount (``np.bitwise_count``); integer-exact and
      about twice as fast as BLAS on large inputs, with temporaries of (raters*labels) x items / 8 bytes at most;
    - ``"matmul"``: one float32 product of the indicator matrix with its transpose (exact: every count < 2**24 per
      product, chunked); fastest for few items, so ``"auto"`` uses it up to ``SMALL_ITEMS``.
    """
    n_raters, n_items = labels.codes.shape
    n_cat = labels.n_categories
    if method == "auto":
        method = "matmul" if n_items <= SMALL_ITEMS else "bitset"
    if n_cat == 0 or n_raters == 0:  # nothing rated: every table is empty
        total = np.zeros((n_raters * n_cat, n_raters * n_cat), dtype=np.int64)
    elif method == "matmul":
        total = _counts_matmul(labels.codes, n_cat)
    elif method == "bitset":
        total = _counts_bitset(labels.codes, n_cat)
    else:
        raise ValueError(f"unknown method {method!r}")
    return total.reshape(n_raters, n_cat, n_raters, n_cat).transpose(0, 2, 1, 3)


def _counts_matmul(codes: NDArray[np.signedinteger[Any]], n_cat: int) -> NDArray[np.int64]:
    rows = codes.shape[0] * n_cat
    total = np.zeros((rows, rows), dtype=np.int64)
    with single_threaded_blas():
        for start in range(0, codes.shape[1], SMALL_ITEMS):
            block = one_hot(codes[:, start : start + SMALL_ITEMS], n_cat)
            total += np.rint(block @ block.T).astype(np.int64)
    return total


def _category_bitsets(codes: NDArray[np.signedinteger[Any]], n_cat: int) -> NDArray[np.uint64]:
    """(raters, categories, words): bit i of a row says the rater gave item i that category. Scratch; zero padded.

    Built from the codes' bit planes rather than one equality pass per category: B = n_cat.bit_length() planes
    (2 for three labels) each take one pass over the items, and the categories are then word operations on data an
    eighth the size. A missing code (-1) has all B low bits set, which no category 0 .. n_cat-1 has.
    """
    n_raters, n_items = codes.shape
    n_words, n_bytes = -(-n_items // 64), -(-n_items // 8)
    planes = scratch("cohen.planes", (n_cat.bit_length(), n_raters, n_words * 8), np.uint8)
    planes[:, :, n_bytes:] = 0
    bit = scratch("cohen.bit", codes.shape, codes.dtype)
    for k in range(planes.shape[0]):
        planes[k, :, :n_bytes] = np.packbits(np.bitwise_and(codes, 1 << k, out=bit), axis=1)
    plane_words = planes.view(np.uint64)  # (B, raters, words)
    valid = np.zeros(n_words * 8, dtype=np.uint8)  # the items themselves, not the padding after them
    valid[:n_bytes] = np.packbits(np.ones(n_items, dtype=np.bool_))
    valid_words = valid.view(np.uint64)
    out = scratch("cohen.bitsets", (n_raters, n_cat, n_words), np.uint64)
    for category in range(n_cat):
        target = out[:, category]
        target[:] = valid_words
        for k in range(planes.shape[0]):
            if category >> k & 1:
                target &= plane_words[k]
            else:
                target &= ~plane_words[k]
    return out


def _counts_bitset(codes: NDArray[np.signedinteger[Any]], n_cat: int) -> NDArray[np.int64]:
    n_raters = codes.shape[0]
    rows = n_raters * n_cat
    words = _category_bitsets(codes, n_cat).reshape(rows, -1)
    total = np.zeros((rows, rows), dtype=np.int64)
    # Scratch buffers reused across rows and calls: fresh temporaries cost more in page faults than the work itself.
    both = scratch("cohen.both", (rows, min(WORDS_PER_CHUNK, words.shape[1])), np.uint64)
    bits = scratch("cohen.bits", both.shape, np.uint8)
    for start in range(0, words.shape[1], WORDS_PER_CHUNK):
        chunk = words[:, start : start + WORDS_PER_CHUNK]
        width = chunk.shape[1]
        for row in range(rows):  # upper triangle only; the table is symmetric
            pair_words = np.bitwise_and(chunk[row], chunk[row:], out=both[: rows - row, :width])
            pair_bits = np.bitwise_count(pair_words, out=bits[: rows - row, :width])
            total[row, row:] += pair_bits.sum(axis=1, dtype=np.uint32)  # < 2**32 per chunk; half the cost of int64
    return total + np.triu(total, 1).T


def kappa_from_counts(counts: NDArray[np.integer[Any]]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cohen's kappa and raw agreement from contingency tables of shape (..., L, L); NaN where undefined."""
    counts = np.asarray(counts, dtype=np.int64)
    n = counts.sum(axis=(-2, -1))
    agreed = np.trace(counts, axis1=-2, axis2=-1)
    rows = counts.sum(axis=-1)
    cols = counts.sum(axis=-2)
    # Integer arithmetic up to the last step: disagreement = n - agreed, expected = (n² - Σ r_k c_k) / n.
    chance = (rows * cols).sum(axis=-1)
    expected_scaled = n * n - chance
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 1.0 - ((n - agreed) * n).astype(np.float64) / expected_scaled.astype(np.float64)
        agreement = agreed / n.astype(np.float64)
    kappa = np.where((n > 0) & (expected_scaled > 0), kappa, np.nan)
    agreement = np.where(n > 0, agreement, np.nan)
    return kappa, agreement


def pairwise_kappa(
    ratings: ArrayLike | LabelMatrix,
    *,
    raters: Sequence[str] | None = None,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
) -> PairwiseKappa:
    """Cohen's kappa, overlap n, raw agreement and label shares for every pair of raters (rows of ``ratings``).

    ``ratings`` is raters x items (see ``encode_labels`` for labels and missing values). Each pair is compared on
    the items both rated. Undefined kappas (no overlap, or both raters used one identical label) are NaN.
    """
    labels = encode_labels(ratings, categories=categories, missing=missing, transient=True)  # dropped on return
    names = tuple(raters) if raters is not None else tuple(f"rater_{i}" for i in range(labels.n_raters))
    if len(names) != labels.n_raters:
        raise ValueError(f"{len(names)} rater names for {labels.n_raters} raters")
    counts = pairwise_counts(labels)
    kappa, agreement = kappa_from_counts(counts)
    n = counts.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts.sum(axis=-1) / n[..., np.newaxis].astype(np.float64)
    shares[n == 0] = np.nan
    return PairwiseKappa(names, labels.categories, kappa, n, agreement, shares, counts)


def cohen_kappa(
    rater_a: ArrayLike, rater_b: ArrayLike, *, categories: Sequence[Hashable] | None = None
) -> tuple[float, int]:
    """Cohen's kappa between two raters over the items both rated, and that overlap n. NaN when undefined."""
    result = pairwise_kappa(np.vstack([_as_row(rater_a), _as_row(rater_b)]), categories=categories)
    return float(result.kappa[0, 1]), int(result.n[0, 1])


def _as_row(values: ArrayLike) -> NDArray[Any]:
    row = np.asarray(values)
    return row if row.dtype.kind in "fiub" else row.astype(object)


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
