"""The one report kit: a table dict → CSV/JSON/HTML cells, a figure function → PNG/SVG, one cache, one URL scheme.

Study reports (``annotation.reports``) and bench results (``benchmarks.bench``) both build their output from it:

- a **table** is ``{"title", "columns", "rows", "note"}`` (``table()``), rows JSON-safe, undefined statistics as
  ``None`` (``num()``): an empty cell in CSV, ``null`` in JSON, the word "undefined" on the page — never 0;
- CSV has one writer (``table_csv``: the formula guard of ``core.csv_export``, ``\\n`` line ends — what the study
  reports always wrote; every CSV reader takes both), JSON one (``table_json``: NaN refused);
- a **figure** is a function drawing on a matplotlib ``Figure``; ``figure_cached`` draws it once per
  (scope, version, name, format) and keeps the bytes in the cache: the version is whatever says the inputs changed
  (a report's freshness key, a digest of a run's tables);
- URLs: ``…/tables/<name>.<csv|json>`` and ``…/figures/<name>.<png|svg>`` under the owning page; downloads are named
  ``<prefix>-<name>.<fmt>`` (``table_response``, ``figure_response``; ``?download=1`` makes a figure an attachment).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpResponse

from core.cache import recompute_get, recompute_set
from core.csv_export import CsvDictWriter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

UNDEFINED = "undefined"
TABLE_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
FIGURE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
FIGURE_CACHE_SECONDS = 24 * 3600


def num(value: Any) -> float | None:
    """A float for JSON, ``None`` where undefined (NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def table(title: str, columns: list[str], rows: Iterable[dict[str, Any]], note: str = "") -> dict[str, Any]:
    """A table; ``rows`` a list, or an iterator for a long table that is written out as it is made
    (``table_json_chunks``) instead of held whole."""
    return {"title": title, "columns": columns, "rows": rows, "note": note}


def table_json_chunks(table: dict[str, Any], *, size: int = 1 << 16) -> Iterator[str]:
    """The table as compact JSON text (the value ``json.dumps(table)`` gives), in pieces of about ``size``
    characters, its rows serialized one at a time: a table with an iterator for rows is never held whole."""
    head = json.dumps({key: value for key, value in table.items() if key != "rows"}, allow_nan=False)
    pieces, length = [head[:-1], ', "rows": ['] if len(head) > 2 else ['{"rows": ['], 0
    for index, row in enumerate(table["rows"]):
        piece = json.dumps(row, allow_nan=False)
        pieces.append(f", {piece}" if index else piece)
        length += len(piece)
        if length >= size:
            yield "".join(pieces)
            pieces, length = [], 0
    pieces.append("]}")
    yield "".join(pieces)


def table_csv(table: dict[str, Any]) -> str:
    """The table as CSV: its columns in order, undefined cells empty, every text cell through the formula guard."""
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


def table_display(name: str, table: dict[str, Any], *, max_rows: int | None = None) -> dict[str, Any]:
    """The table with every cell as text, numbers right-aligned (``numeric`` per column); at most ``max_rows`` rows
    (``total`` says how many the table has: its CSV has them all)."""
    columns = table["columns"]
    shown = table["rows"] if max_rows is None else table["rows"][:max_rows]
    rows = [[cell_text(row.get(column)) for column in columns] for row in shown]
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
        "total": len(table["rows"]),
    }


def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    """The response as a download named ``filename`` (one naming rule: ``<prefix>-<name>.<fmt>``)."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_response(table: dict[str, Any] | None, fmt: str, *, prefix: str, name: str) -> HttpResponse:
    """``<prefix>-<name>.<fmt>`` as an attachment; 404 for a missing table or an unknown format."""
    if table is None or fmt not in TABLE_FORMATS:
        raise Http404("No such table.")
    body = table_csv(table) if fmt == "csv" else table_json(table)
    return attachment(HttpResponse(body, content_type=TABLE_FORMATS[fmt]), f"{prefix}-{name}.{fmt}")


def figure_empty(fig: Figure, message: str) -> None:
    """A figure with nothing to draw says why in words, instead of empty axes that read as zero."""
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG (``fmt``, a key of ``FIGURE_FORMATS``), drawn on its own canvas: no pyplot state."""
    # matplotlib (about 35 MB) is imported by what draws, not by this module: the report modules import the table
    # helpers at app load, and a worker or a management command that draws nothing should not carry it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.BytesIO()
    canvas = FigureCanvasSVG(fig) if fmt == "svg" else FigureCanvasAgg(fig)
    canvas.print_figure(buffer, format=fmt, dpi=110)
    return buffer.getvalue()


def figure_message(*, message: str, fmt: str) -> bytes:
    """In place of any figure when there is nothing to draw from: the reason in words, as PNG or SVG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 5.6), layout="constrained")
    figure_empty(fig, message)
    return figure_bytes(fig, fmt)


def figure_cached(*, scope: str, version: str, name: str, fmt: str, draw: Callable[[], Figure]) -> bytes:
    """The figure ``draw()`` makes, as ``fmt`` bytes, kept in the cache per (scope, version, name, format): drawing
    takes up to a second and a page shows several. No version (nothing says when the inputs change): not cached."""
    if fmt not in FIGURE_FORMATS:
        raise KeyError(f"{name}.{fmt}")
    key = f"figure:{scope}:{version}:{name}.{fmt}"
    if version and (cached := recompute_get(key)) is not None:
        return cached
    content = figure_bytes(draw(), fmt)
    if version:
        recompute_set(key, content, timeout=FIGURE_CACHE_SECONDS)
    return content


def figure_response(content: bytes, fmt: str, *, prefix: str, name: str, download: bool) -> HttpResponse:
    """An image inline (an ``<img>``), or ``<prefix>-<name>.<fmt>`` as an attachment with ``download``."""
    response = HttpResponse(content, content_type=FIGURE_FORMATS[fmt])
    return attachment(response, f"{prefix}-{name}.{fmt}") if download else response
