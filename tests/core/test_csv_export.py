from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from core.csv_export import CsvWriter, csv_cell
from core.report_kit import table_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("-0.25", "-0.25"),  # a number written as text stays a number
        ("+1e5", "+1e5"),
        ("plain", "plain"),
        (-3, -3),
        (None, None),
        (["a", "=b"], "a;=b"),  # joined text that does not start with a formula sign
    ],
)
def test_formula_guard(value, written):
    assert csv_cell(value) == written


def test_report_tables_are_guarded():
    table = {"columns": ["judge", "kappa"], "rows": [{"judge": "=cmd|' /C calc'!A0", "kappa": -0.5}]}
    rows = list(csv.reader(io.StringIO(table_csv(table))))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-0.5"]


def test_writer_guards_every_cell():
    buffer = io.StringIO()
    CsvWriter(buffer).writerows([["=1+1", "ok"]])
    assert buffer.getvalue().strip() == "'=1+1,ok"


def test_no_csv_is_written_around_the_helper():
    """Every CSV the app writes goes through core.csv_export (one place for the guard)."""
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("core", "personas", "benchmarks", "annotation")
        for path in (ROOT / app).rglob("*.py")
        if path.name != "csv_export.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    ]
    assert offenders == []
