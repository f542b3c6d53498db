"""Landis & Koch (1977) verbal bands for kappa-like statistics."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

UNDEFINED = "undefined"

_BANDS: tuple[tuple[float, str], ...] = (
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.00, "almost perfect"),
)


def landis_koch(kappa: float | None) -> str:
    """Band of a kappa: < 0 poor, 0-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate, 0.61-0.80 substantial,
    0.81-1 almost perfect. Upper bounds are inclusive (0.20 is slight, 0.2001 fair). NaN/None → "undefined".
    """
    if kappa is None or math.isnan(kappa):
        return UNDEFINED
    if kappa < 0:
        return "poor"
    for upper, name in _BANDS:
        if kappa <= upper:
            return name
    return "almost perfect"  # > 1 only through rounding error


def landis_koch_bands(kappas: ArrayLike) -> NDArray[np.object_]:
    """``landis_koch`` applied element-wise (same shape, object array of band names)."""
    values = np.asarray(kappas, dtype=np.float64)
    return np.array([landis_koch(v) for v in values.ravel()], dtype=object).reshape(values.shape)
