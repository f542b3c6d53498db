"""Tables as CSV/JSON and for display. Undefined statistics are empty cells in CSV, ``null`` in JSON and the word
"undefined" on the page — never 0."""

from __future__ import annotations

import io
import json
from typing import Any

from core.csv_export import CsvDictWriter

UNDEFINED = "undefined"


def table_csv(table: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = CsvDictWriter(buffer, fieldnames=table["columns"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in table["rows"]:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def table_json(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, allow_nan=False)


def cell_text(value: Any) -> str:
    if value is None:
        return UNDEFINED
    if isinstance(value, float):
        if abs(value) < 1e-3 and value != 0:
            return f"{value:.2e}"
        return f"{value:.3f}"
    return str(value)


def table_display(name: str, table: dict[str, Any]) -> dict[str, Any]:
    """The table with every cell as text, numbers right-aligned (``numeric`` per column)."""
    columns = table["columns"]
    rows = [[cell_text(row.get(column)) for column in columns] for row in table["rows"]]
    numeric = [
        all(isinstance(row.get(column), int | float) or row.get(column) is None for row in table["rows"])
        for column in columns
    ]
    return {
        "name": name,
        "title": table["title"],
        "note": table.get("note", ""),
        "columns": [{"name": c.replace("_", " "), "numeric": n} for c, n in zip(columns, numeric, strict=True)],
        "rows": [list(zip(row, numeric, strict=True)) for row in rows],
    }
