"""The label matrix every statistic in this package reads: raters x items, integer codes, -1 for missing.

Input conventions (``encode_labels``):

- rows are raters, columns are items; a single rater is a 1-D array;
- float arrays: ``NaN`` is a missing rating; whole numbers become int labels (1.0 → 1), others stay floats;
- object arrays and lists: ``None``, ``NaN``, ``pd.NA`` are missing; labels may be strings or ints;
- integer and string arrays have no missing value unless you name one with ``missing=`` (e.g. ``missing=-1``
  or ``missing=""``);
- an already encoded ``LabelMatrix`` passes through unchanged.

Speed: small integer labels (and whole-number floats) are encoded in a few linear passes; int8 with a sentinel is
the fastest input, float64 with NaN a few times slower, strings and objects go through
pandas hashing and are much slower on large matrices, so build big matrices as small ints.

Categories are the sorted distinct labels (order of first appearance when labels of different types cannot be
sorted), or exactly the ``categories=`` you pass, so shares and tables have stable columns across reports even
when a label never occurs.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from benchmarks.agreement.scratch import scratch

MISSING = -1
"""Code of a missing rating in ``LabelMatrix.codes``."""

_SMALL_INT_RANGE = 1 << 16  # integer labels spanning fewer values than this are encoded without sorting
_COMPARE_WIDTH = 16  # up to this many distinct integer values, one comparison pass per value beats counting
_OCCURS_BLOCK = 1 << 16  # items per block when looking whether a value occurs at all


@dataclass(frozen=True)
class LabelMatrix:
    """Ratings encoded as integer codes.

    ``codes[r, i]`` is the index into ``categories`` of rater r's label for item i, or ``MISSING`` (-1); the dtype
    is the smallest signed integer that holds them (``code_dtype``), so cast before arithmetic that could overflow.
    """

    codes: NDArray[np.signedinteger[Any]]
    categories: tuple[Any, ...]

    @property
    def n_raters(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.codes.shape[1])

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    @property
    def rated(self) -> NDArray[np.bool_]:
        """Boolean raters x items mask of present ratings."""
        return self.codes != MISSING

    def take(self, items: ArrayLike) -> LabelMatrix:
        """The same raters and categories over a subset (or resample) of the items."""
        return LabelMatrix(self.codes[:, np.asarray(items)], self.categories)

    def decode(self) -> NDArray[np.object_]:
        """Labels as an object array, ``None`` where missing."""
        lut = np.array([*self.categories, None], dtype=object)
        return lut[np.where(self.codes == MISSING, len(self.categories), self.codes)]


def encode_labels(
    ratings: ArrayLike | LabelMatrix,
    *,
    categories: Sequence[Hashable] | None = None,
    missing: Hashable | None = None,
    transient: bool = False,
) -> LabelMatrix:
    """Encode a raters x items array of labels (see the module docstring for missing-value conventions).

    ``transient=True`` lets the codes live in a scratch buffer that the next transient encoding on this thread
    overwrites: for callers that drop the matrix before they return, like ``pairwise_kappa`` (a fresh 6 MB array per
    call was 7 % of its time). Raises ``ValueError`` for arrays of more than two dimensions or a label outside
    ``categories`` when categories are given.
    """
    if isinstance(ratings, LabelMatrix):
        if categories is not None and tuple(categories) != ratings.categories:
            return encode_labels(ratings.decode(), categories=categories)
        return ratings
    values = np.asarray(ratings)
    if values.ndim == 1:
        values = values[np.newaxis, :]
    if values.ndim != 2:
        raise ValueError(f"ratings must be raters x items (2-D), got shape {values.shape}")

    if values.dtype.kind in "iub" or (values.dtype.kind == "f" and categories is None):
        fast = _encode_numeric(values, missing=missing, categories=categories, transient=transient)
        if fast is not None:
            return fast

    if values.dtype.kind == "f":
        present = ~np.isnan(values)
    elif values.dtype.kind == "O":
        present = ~pd.isna(values)
    else:
        present = np.ones(values.shape, dtype=bool)
    if missing is not None:
        present &= values != missing

    observed = values[present]
    if categories is None:
        uniques = pd.unique(observed.ravel())
        try:
            categories = tuple(sorted(uniques.tolist()))
        except TypeError:  # labels of mixed types: keep their order of first appearance
            categories = tuple(uniques.tolist())
    else:
        categories = tuple(categories)
    codes = np.full(values.shape, MISSING, dtype=code_dtype(len(categories)))
    if observed.size:
        found = pd.Index(list(categories), dtype=object).get_indexer(pd.Index(observed.tolist(), dtype=object))
        if (found < 0).any():
            unknown = sorted({repr(v) for v in observed[found < 0].tolist()})[:5]
            raise ValueError(f"labels not in categories {categories!r}: {', '.join(unknown)}")
        codes[present] = found
    return LabelMatrix(codes, categories)


def code_dtype(n_categories: int) -> type[np.signedinteger[Any]]:
    """Smallest signed integer type holding codes 0..n_categories-1 and MISSING: less memory traffic per pass."""
    if n_categories < np.iinfo(np.int8).max:
        return np.int8
    if n_categories < np.iinfo(np.int16).max:
        return np.int16
    return np.int32


def _encode_numeric(
    values: NDArray[Any], *, missing: Hashable | None, categories: Sequence[Hashable] | None, transient: bool = False
) -> LabelMatrix | None:
    """Linear-time path for small integer labels (and whole-number floats with NaN); None when it does not apply.

    A few whole-array passes instead of a sort: one equality pass per value in the (small) range, accumulated into
    int8 codes; whole-number floats are recognised by every present value having matched.
    """
    is_bool = values.dtype.kind == "b"
    if is_bool:
        values = values.astype(np.int8)
    is_float = values.dtype.kind == "f"
    if values.size == 0:
        return LabelMatrix(np.full(values.shape, MISSING, dtype=np.int8), tuple(categories or ()))
    present = ~np.isnan(values) if is_float else None
    if missing is not None and (is_float or not isinstance(missing, int | np.integer)):
        not_sentinel = values != missing
        present = not_sentinel if present is None else present & not_sentinel
    elif missing is not None and values.min() == values.max() == missing:
        # An integer sentinel needs no mask up front (only the wide path builds one); here every cell is missing.
        return LabelMatrix(np.full(values.shape, MISSING, dtype=np.int8), tuple(categories or ()))
    if present is not None and not present.any():
        return LabelMatrix(np.full(values.shape, MISSING, dtype=np.int8), tuple(categories or ()))
    if categories is not None:
        return None
    if is_float and missing is None:
        small = _whole_floats_as_int8(values, present)
        if small is not None:
            return _encode_numeric(small[0], missing=small[1], categories=None, transient=transient)
    if is_float:
        low, high = np.nanmin(values), np.nanmax(values)
        if not (np.isfinite(low) and np.isfinite(high)) or high - low >= _SMALL_INT_RANGE:
            return None
    else:  # the range may include a sentinel; values that never occur get no code below
        low, high = values.min(), values.max()
    low, high = int(np.ceil(low)), int(np.floor(high))
    width = high - low + 1
    if width <= 0:
        return None  # only fractional values: the general path keeps them as float labels
    if width > _COMPARE_WIDTH:
        if present is None and missing is not None:
            present = values != missing
        return _encode_wide(values, present, low, high, is_float=is_float, is_bool=is_bool)
    candidates = [low + offset for offset in range(width) if missing is None or low + offset != missing]
    if not is_float:
        # Which values occur (the sentinel is no label; a cell equal to any other value is never a sentinel cell).
        used = [value - low for value in candidates if _occurs(values, value)]
        first = low + used[0]
        if used == list(range(used[0], used[0] + len(used))) and (missing is None or missing == first - 1):
            # Already codes up to a shift (e.g. 0/1/2 with -1 missing): one subtraction, no lookup.
            if transient:  # computed in the input's type, then stored as int8 (the shifted codes fit)
                codes = np.subtract(values, first, out=scratch("transient codes", values.shape, np.int8))
            else:
                codes = (values - first).astype(np.int8, copy=False)
            return _numeric_labels(codes, used, low, is_bool=is_bool)
    # One equality pass per possible value; values that occur get consecutive codes (MISSING where none matched).
    codes = np.full(values.shape, MISSING, dtype=np.int8)
    equal = scratch("equality mask", values.shape, np.bool_)
    used = []
    for value in candidates:
        np.equal(values, value, out=equal)
        if np.count_nonzero(equal):
            codes += equal.view(np.int8) * np.int8(len(used) + 1)
            used.append(value - low)
    if is_float and np.count_nonzero(codes != MISSING) != np.count_nonzero(present):
        return None  # fractional values (e.g. interval data): the general path keeps them as float labels
    return _numeric_labels(codes, used, low, is_bool=is_bool)


def _occurs(values: NDArray[Any], value: int) -> bool:
    """Whether ``value`` is in the 2-D ``values``, looked for block by block: a label in use is found in the first
    block, so only absent values cost a whole pass."""
    for row in values:
        for start in range(0, row.shape[0], _OCCURS_BLOCK):
            if np.equal(row[start : start + _OCCURS_BLOCK], value).any():
                return True
    return False


def _whole_floats_as_int8(values: NDArray[np.floating[Any]], present: NDArray[np.bool_]) -> tuple[Any, int] | None:
    """Whole-number floats with NaN as int8 with a sentinel just below the smallest label, or None if they are not.

    Three float passes (isnan before, cast, exactness check) instead of one per distinct value: the common report
    input (0.0/1.0/NaN) then takes the integer path's single shift.
    """
    with np.errstate(invalid="ignore"):
        small = values.astype(np.int8)  # NaN, fractions and out-of-range values come out wrong, caught below
    exact = np.equal(small, values)
    if np.count_nonzero(exact) != np.count_nonzero(present):
        return None
    # np.where rather than copyto(where=...): the masked copy is several times slower on this many cells.
    low = int(np.where(exact, small, np.int8(127)).min())
    if low == -128:
        return None  # no room for a sentinel below the labels
    return np.where(exact, small, np.int8(low - 1)), low - 1


def _numeric_labels(codes: NDArray[np.int8], used: list[int], low: int, *, is_bool: bool) -> LabelMatrix:
    """Codes with the label values they stand for (``low + offset`` per used offset; bools back to bools)."""
    if is_bool:
        return LabelMatrix(codes, tuple(bool(v + low) for v in used))
    return LabelMatrix(codes, tuple(int(v + low) for v in used))


def _encode_wide(
    values: NDArray[Any], present: NDArray[np.bool_] | None, low: int, high: int, *, is_float: bool, is_bool: bool
) -> LabelMatrix | None:
    """Integer labels spanning up to ``_SMALL_INT_RANGE`` values: shift, count with bincount, renumber."""
    if values.dtype.kind in "iu":
        values = values.astype(np.int64)  # the shift below must not wrap around in a narrow integer type
    if present is None:
        shifted = (values - (low - 1)).astype(np.intp)
    else:
        shifted = np.where(present, values - (low - 1), 0)
        if is_float and np.any(shifted != np.rint(shifted)):
            return None
        shifted = shifted.astype(np.intp)  # 1..width, 0 = missing
    used = np.flatnonzero(np.bincount(shifted.ravel(), minlength=high - low + 2)[1:])
    dtype = code_dtype(used.size)
    lut = np.full(high - low + 2, MISSING, dtype=dtype)
    lut[used + 1] = np.arange(used.size)
    codes = lut[shifted]
    if is_bool:
        return LabelMatrix(codes, tuple(bool(v + low) for v in used))
    return LabelMatrix(codes, tuple(int(v + low) for v in used))


def one_hot(codes: NDArray[np.signedinteger[Any]], n_categories: int, dtype: type = np.float32) -> NDArray[Any]:
    """(raters · categories, items) indicator matrix; row r·L + c is 1 where rater r gave category c.

    Missing ratings are all-zero columns for that rater, so a product of two raters' rows counts only the items
    both rated.
    """
    n_raters, n_items = codes.shape
    out = np.empty((n_raters, n_categories, n_items), dtype=dtype)
    for category in range(n_categories):
        np.equal(codes, category, out=out[:, category, :], casting="unsafe")
    return out.reshape(n_raters * n_categories, n_items)
