"""Template filters for the bench pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _cell(value: Any) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@register.filter
def displayed(table: dict[str, Any]) -> dict[str, Any]:
    """A results table with its rows as display strings in column order (undefined shown as such, never 0)."""
    return {**table, "display": [[_cell(row.get(column)) for column in table["columns"]] for row in table["rows"]]}
