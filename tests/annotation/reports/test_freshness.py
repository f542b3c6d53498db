"""The report's freshness key: a few aggregate queries however many answers there are, stale after every change the
report reads; a table download or a figure reads the table it needs, not the whole stored report."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.models import Participant
from annotation.reports.models import ReportSnapshot, ReportTable
from annotation.reports.services import report_fingerprint, report_refresh, report_state
from annotation.services.slots import participant_enter
from benchmarks.judging.models import Judgment
from tests.annotation.factories import study_make
from tests.annotation.reports.conftest import rater_complete


def _fingerprint_queries(study) -> int:
    with CaptureQueriesContext(connection) as queries:
        report_fingerprint(study=study)
    return len(queries)


def test_the_key_costs_the_same_queries_whatever_the_answers(db) -> None:
    study = study_make(personas=2, k=3, n=4, checks=0)
    rater_complete(study, "r1", ["chosen", "chosen", "chosen", "rejected"])
    before = _fingerprint_queries(study)
    for pid in ("r2", "r3", "r4", "r5"):
        rater_complete(study, pid, ["rejected", "chosen", "chosen", "rejected"])
    assert _fingerprint_queries(study) == before <= 6


def test_every_input_the_report_reads_makes_it_stale(hand_study) -> None:
    report_refresh(study=hand_study)
    assert report_state(study=hand_study).fresh
    # A rater excluded by review leaves the counted raters.
    rater = Participant.objects.filter(study=hand_study).order_by("pk").first()
    Participant.objects.filter(pk=rater.pk).update(review=Participant.Review.EXCLUDED)
    assert not report_state(study=hand_study).fresh
    report_refresh(study=hand_study)
    # A judge's reply changed.
    judgment = Judgment.objects.order_by("pk").first()
    judgment.choice = "abstain"
    judgment.save()
    assert not report_state(study=hand_study).fresh
    report_refresh(study=hand_study)
    assert report_state(study=hand_study).fresh
    # A rater still answering changes nothing the report reads.
    participant_enter(study=hand_study, pid="late", study_param="S", session_param="s-late")
    assert report_state(study=hand_study).fresh


def test_a_table_download_reads_that_table_only(client, analyst, hand_study) -> None:
    report_refresh(study=hand_study)
    snapshot = ReportSnapshot.objects.get(scope=f"study:{hand_study.pk}")
    assert "tables" not in snapshot.data
    assert ReportTable.objects.filter(snapshot=snapshot).count() == len(snapshot.data["table_names"])
    client.force_login(analyst)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("study-report-table", args=[hand_study.pk, "judges", "csv"]))
    assert response.status_code == 200
    assert response.content.decode().startswith("judge,n,ties,kappa")
    reads = [q["sql"] for q in queries if "annotation_reporttable" in q["sql"]]
    assert len(reads) == 1
    assert "judges" in reads[0] or "%s" in reads[0]  # filtered by the table's name
    assert "loo_pairs" not in reads[0]
