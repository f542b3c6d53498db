"""The shape every report table has, and how a statistic enters it."""

from __future__ import annotations

import math
from typing import Any


def num(value: Any) -> float | None:
    """A float for JSON, ``None`` where undefined (NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def table(title: str, columns: list[str], rows: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows, "note": note}
