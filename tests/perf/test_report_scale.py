"""``bin/perf report_scale`` at a small size: the report job costs the same number of queries at two sizes (no read
per persona or rater), and writes its long tables as their rows are made instead of holding them (what took the
job to 395 MB at paper scale). Timings and process memory are for ``bin/perf``, never for a test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Answer
from annotation.reports import services
from annotation.reports.services import report_refresh
from perf.bench_study_scale import cleanup, study_build

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 30  # personas; x 4 raters x (10 questions + 1 check)
STREAMED = ("loo_pairs", "human_pairs", "human_vs_judges")  # the tables as long as the answers or the raters


def _report(personas: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    study = study_build(personas=personas)
    written: dict[str, Any] = {}
    write = services.report_table_write

    def spy(*, snapshot_id: int, name: str, table: dict[str, Any]) -> None:
        written[name] = table["rows"]
        write(snapshot_id=snapshot_id, name=name, table=table)

    monkeypatch.setattr(services, "report_table_write", spy)
    with CaptureQueriesContext(connection) as queries:
        state = report_refresh(study=study)
    assert state.snapshot is not None
    assert Answer.objects.filter(participant__study=study).count() > personas * 4 * 5
    return len(queries), written


def test_the_report_job_reads_in_the_same_queries_and_streams_its_long_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    small, small_tables = _report(SMALL, monkeypatch)
    cleanup()
    large, large_tables = _report(LARGE, monkeypatch)
    assert large == small
    assert list(large_tables) == list(small_tables)
    for name in STREAMED:
        assert isinstance(large_tables[name], Iterator), name  # made while written, never a list of every row
    assert all(isinstance(rows, list) for name, rows in large_tables.items() if name not in STREAMED)
