"""The one report kit: one CSV rule for every table, the page's shortened view, one figure cache and naming."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import Http404
from matplotlib.figure import Figure

from core.report_kit import (
    figure_cached,
    figure_response,
    num,
    table,
    table_csv,
    table_display,
    table_response,
)

ROOT = Path(__file__).resolve().parents[2]

TABLE = table("Kappas", ["rater", "kappa"], [{"rater": f"r{i}", "kappa": None if i == 2 else i / 10} for i in range(5)])


def test_csv_has_one_line_ending_and_empty_undefined_cells() -> None:
    text = table_csv(TABLE)
    assert "\r" not in text
    assert list(csv.reader(io.StringIO(text)))[3] == ["r2", ""]
    assert num(float("nan")) is None


def test_the_page_shows_the_first_rows_and_says_how_many_there_are() -> None:
    shown = table_display("kappas", TABLE, max_rows=3)
    assert len(shown["rows"]) == 3
    assert shown["total"] == 5
    assert shown["rows"][2][1] == ("undefined", True)


def test_table_and_figure_downloads_are_named_alike() -> None:
    response = table_response(TABLE, "json", prefix="study-4", name="kappas")
    assert response["Content-Disposition"] == 'attachment; filename="study-4-kappas.json"'
    with pytest.raises(Http404):
        table_response(TABLE, "xlsx", prefix="study-4", name="kappas")
    with pytest.raises(Http404):
        table_response(None, "csv", prefix="study-4", name="missing")
    image = figure_response(b"<svg/>", "svg", prefix="bench-3", name="pass-rates", download=True)
    assert image["Content-Disposition"] == 'attachment; filename="bench-3-pass-rates.svg"'
    assert "Content-Disposition" not in figure_response(b"<svg/>", "svg", prefix="b", name="n", download=False)


def test_a_figure_is_drawn_once_per_version(db: None) -> None:
    drawn = []

    def draw() -> Figure:
        drawn.append(1)
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [0, 1])
        return fig

    first = figure_cached(scope="test", version="v1", name="line", fmt="svg", draw=draw)
    again = figure_cached(scope="test", version="v1", name="line", fmt="svg", draw=draw)
    assert first == again
    assert first.lstrip().startswith(b"<?xml")
    figure_cached(scope="test", version="v2", name="line", fmt="svg", draw=draw)
    assert len(drawn) == 2


def test_loading_the_apps_does_not_import_matplotlib() -> None:
    # The report modules import the kit's table helpers at app load; matplotlib (~35 MB) comes only with a drawing,
    # so a Celery worker or a management command that draws nothing does not carry it.
    code = "import sys, django; django.setup(); print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
