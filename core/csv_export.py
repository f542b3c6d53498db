"""Every CSV the app writes goes through these writers: a text cell a spreadsheet would run as a formula gets a
leading apostrophe (OWASP's "CSV injection" guard), so a participant's reasoning or an imported prompt such as
``=HYPERLINK(...)`` opens as text. Numbers, and numbers written as text (``-0.25``), are left alone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """The value as it may be written to a CSV cell (lists are joined with ``;``)."""
    if isinstance(value, list | tuple):
        value = ";".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class CsvWriter:
    """``csv.writer`` with the formula guard on every cell."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class CsvDictWriter(csv.DictWriter):
    """``csv.DictWriter`` with the formula guard on every cell (the header is ours, never guarded)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: csv_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
