"""The stored report is the computed one: every table written through ``report_table_write`` (COPY on PostgreSQL, the
ORM elsewhere), its rows streamed, reads back equal to ``report_compute``'s table, value for value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY, report_demo_ensure
from annotation.reports.models import ReportTable
from annotation.reports.ratings import study_ratings
from annotation.reports.services import report_refresh
from annotation.reports.storage import report_table_write
from annotation.reports.study_report import report_compute
from core.report_kit import table
from tests.annotation.reports.golden_study import golden_study, relative_ids


@pytest.mark.django_db(transaction=True)
def test_every_stored_table_equals_the_computed_one() -> None:
    report_demo_ensure()
    study = Study.objects.get(name=DEMO_REPORT_STUDY)
    stored = report_refresh(study=study).full_data()
    assert stored is not None
    computed = json.loads(json.dumps(report_compute(ratings=study_ratings(study=study), fingerprint="")))
    assert list(stored["tables"]) == list(computed["tables"])
    assert len(computed["tables"]["loo_pairs"]["rows"]) > 50
    for name, expected in computed["tables"].items():
        assert stored["tables"][name] == expected, name
    assert {k: v for k, v in stored.items() if k not in ("tables", "fingerprint", "table_names")} == {
        k: v for k, v in computed.items() if k not in ("tables", "fingerprint")
    }


@pytest.mark.django_db(transaction=True)
def test_a_table_with_streamed_rows_keeps_every_character() -> None:
    """Backslashes, quotes, tabs, newlines and non-ASCII text survive the COPY text format."""
    report_demo_ensure()
    snapshot = report_refresh(study=Study.objects.get(name=DEMO_REPORT_STUDY)).snapshot
    assert snapshot is not None
    rows = [{"text": 'a\\b "c"\td\ne\r f \u2013 é ☃', "n": i, "x": 0.1 + i, "none": None} for i in range(3000)]
    report_table_write(snapshot_id=snapshot.pk, name="odd\\name", table=table("T\t1", ["text"], iter(rows), "n\\"))
    stored = ReportTable.objects.get(snapshot=snapshot, name="odd\\name").data
    assert stored == {"title": "T\t1", "columns": ["text"], "rows": rows, "note": "n\\"}


GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "golden_study_report.json"


@pytest.mark.django_db(transaction=True)
def test_a_seeded_study_reports_what_the_code_that_held_every_table_reported() -> None:
    """``golden_study_report.json`` was computed by the report code before it streamed its tables (every table
    built whole, then one INSERT each); the computed and the stored report must reproduce it exactly."""
    study = golden_study()
    expected = json.loads(GOLDEN.read_text())
    computed = json.loads(json.dumps(report_compute(ratings=study_ratings(study=study))))
    assert relative_ids(computed, study) == expected
    stored = report_refresh(study=study).full_data()
    assert stored is not None
    stored = {key: value for key, value in stored.items() if key != "table_names"}
    assert relative_ids(stored, study) == expected
