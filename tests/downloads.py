"""What every figure and table download must be, checked the way a reader opens it: a PNG an image library decodes, an
SVG an XML parser reads, a CSV the csv module reads (header = the table's columns), JSON json loads."""

from __future__ import annotations

import csv
import io
import json
import struct
from typing import Any
from xml.etree import ElementTree

from django.http import HttpResponse
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header and from a full decode (both must agree)."""
    assert content.startswith(PNG_SIGNATURE), content[:16]
    width, height = struct.unpack(">II", content[16:24])
    with Image.open(io.BytesIO(content)) as image:
        image.load()  # decodes every pixel: a truncated or corrupt file fails here
        assert image.format == "PNG"
        assert image.size == (width, height)
    return width, height


def svg_root(content: bytes) -> ElementTree.Element:
    root = ElementTree.fromstring(content)
    assert root.tag == f"{SVG_NAMESPACE}svg", root.tag
    assert float(root.get("width", "0").removesuffix("pt")) > 0
    assert float(root.get("height", "0").removesuffix("pt")) > 0
    return root


def figure_check(response: HttpResponse, fmt: str) -> None:
    """A 200 image of the requested format that decodes (any size a figure can have)."""
    assert response.status_code == 200, (response.status_code, response.content[:300])
    if fmt == "png":
        assert response["Content-Type"] == "image/png"
        width, height = png_size(response.content)
        assert min(width, height) >= 150, (width, height)
    else:
        assert response["Content-Type"] == "image/svg+xml"
        svg_root(response.content)


def table_check(
    response: HttpResponse, fmt: str, *, columns: list[str] | None = None
) -> dict[str, Any] | list[dict[str, str]]:
    """A 200 table download that parses: CSV rows (dicts; the header is ``columns`` when given) or the JSON table
    (title, columns, rows, note)."""
    assert response.status_code == 200, (response.status_code, response.content[:300])
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        reader = csv.DictReader(io.StringIO(body.decode("utf-8")))
        rows = list(reader)
        assert reader.fieldnames, "a CSV download has at least its header"
        assert columns is None or reader.fieldnames == columns, (reader.fieldnames, columns)
        assert all(None not in row for row in rows), "a row with more cells than the header"
        return rows
    assert response["Content-Type"] == "application/json"
    table = json.loads(body)
    if "rows" in table:
        assert isinstance(table["rows"], list)
        assert all(set(row) <= set(table["columns"]) for row in table["rows"]), "a cell outside the table's columns"
    return table
