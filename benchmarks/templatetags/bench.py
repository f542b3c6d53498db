"""Template filters for the bench pages."""

from __future__ import annotations

from typing import Any

from django import template

from core.report_kit import cell_text

register = template.Library()


@register.filter
def displayed(table: dict[str, Any]) -> dict[str, Any]:
    """A results table with its rows as display strings in column order, by the report kit's one cell rule
    (undefined shown as such, never 0)."""
    return {**table, "display": [[cell_text(row.get(column)) for column in table["columns"]] for row in table["rows"]]}
