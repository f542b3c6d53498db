"""The comparison categories of each census attribute: labels as they are, age and income in bins. Shared by the
importer (weighted census marginals) and the census comparison (persona counts), so both count the same way."""

from __future__ import annotations

import math

NOT_APPLICABLE = "(not applicable)"

AGE_BINS: tuple[tuple[int, str], ...] = (
    (17, "0-17"),
    (24, "18-24"),
    (34, "25-34"),
    (44, "35-44"),
    (54, "45-54"),
    (64, "55-64"),
    (74, "65-74"),
    (200, "75+"),
)
INCOME_BINS: tuple[tuple[float, str], ...] = (
    (0, "Loss or none"),
    (9_999, "$1-9,999"),
    (24_999, "$10,000-24,999"),
    (49_999, "$25,000-49,999"),
    (74_999, "$50,000-74,999"),
    (99_999, "$75,000-99,999"),
    (149_999, "$100,000-149,999"),
    (float("inf"), "$150,000+"),
)
BINNED_KEYS = {"age": AGE_BINS, "income": INCOME_BINS}


def category_order(key: str) -> list[str] | None:
    """The natural order of a binned attribute's categories; None for label attributes."""
    bins = BINNED_KEYS.get(key)
    return [label for _limit, label in bins] + [NOT_APPLICABLE] if bins else None


def attribute_category(key: str, value: object) -> str:
    """The comparison category of one persona value (absent or empty = not applicable)."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return NOT_APPLICABLE
    bins = BINNED_KEYS.get(key)
    if bins is None:
        return str(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    for limit, label in bins:
        if number <= limit:
            return label
    return bins[-1][1]
