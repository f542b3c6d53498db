from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotation.models import Answer
from annotation.reports.models import ReportSnapshot
from annotation.reports.services import REPORT_JOB, report_refresh, report_state
from core.models import Job, JobStatus
from tests.annotation.factories import study_make


@pytest.fixture
def computed(hand_study):
    report_refresh(study=hand_study)
    return hand_study


def test_analyst_sees_the_report_with_n_ties_and_downloads(client, analyst, computed):
    client.force_login(analyst)
    response = client.get(reverse("study-report", args=[computed.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Human majority" in page
    assert "hand-judge · AB" in page
    assert "0.400" in page  # kappa of the human majority vs the judge over both orders
    assert "undefined" in page  # the one-item coverage kappa
    assert reverse("study-report-figure", args=[computed.pk, "kappa-heatmap", "svg"]) in page
    assert not Job.objects.filter(kind=REPORT_JOB).exists()  # fresh: nothing to recompute


def test_the_study_page_links_to_its_report(client, analyst, computed):
    client.force_login(analyst)
    page = client.get(reverse("study-detail", args=[computed.pk])).content.decode()
    assert reverse("study-report", args=[computed.pk]) in page


def test_downloads_have_the_right_types_and_content(client, analyst, computed):
    client.force_login(analyst)
    csv = client.get(reverse("study-report-table", args=[computed.pk, "pairwise", "csv"]))
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("rater_a,rater_b,n,ties,kappa")
    assert "Human majority,hand-judge · AB,4,0,0.5," in csv.content.decode()
    coverage = client.get(reverse("study-report-table", args=[computed.pk, "coverage", "csv"])).content.decode()
    assert "hand-judge,90.0,0.3333333333333333,1,1,1.0,\n" in coverage  # undefined kappa: an empty cell, not 0
    as_json = client.get(reverse("study-report-table", args=[computed.pk, "coverage", "json"]))
    assert as_json["Content-Type"] == "application/json"
    assert json.loads(as_json.content)["rows"][0]["kappa"] is None
    whole = client.get(reverse("study-report-json", args=[computed.pk]))
    assert json.loads(whole.content)["tables"]["pairwise"]["rows"]
    png = client.get(reverse("study-report-figure", args=[computed.pk, "kappa-heatmap", "png"]))
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    svg = client.get(reverse("study-report-figure", args=[computed.pk, "persona-kappa", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert client.get(reverse("study-report-table", args=[computed.pk, "nope", "csv"])).status_code == 404
    assert client.get(reverse("study-report-figure", args=[computed.pk, "coverage", "gif"])).status_code == 404


def test_empty_state_without_completed_participants(client, analyst):
    study = study_make(personas=1, k=2, n=2)
    client.force_login(analyst)
    response = client.get(reverse("study-report", args=[study.pk]))
    assert response.status_code == 200
    assert "No completed participants yet" in response.content.decode()
    assert not Job.objects.filter(kind=REPORT_JOB).exists()
    assert client.get(reverse("study-report-json", args=[study.pk])).status_code == 404


def test_anonymous_and_unprivileged_users_cannot_see_reports(client, computed):
    from tests.factories import UserFactory

    url = reverse("study-report", args=[computed.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert client.get(reverse("study-report-figure", args=[computed.pk, "coverage", "png"])).status_code == 403


def test_a_changed_answer_makes_the_report_stale_and_queues_a_recompute(client, analyst, computed):
    assert report_state(study=computed).fresh
    answer = Answer.objects.filter(participant__study=computed).order_by("pk").first()
    Answer.objects.filter(pk=answer.pk).update(choice="rejected" if answer.choice == "chosen" else "chosen")
    state = report_state(study=computed)
    assert not state.fresh
    client.force_login(analyst)
    page = client.get(reverse("study-report", args=[computed.pk])).content.decode()
    assert "changed since this report was computed" in page
    job = Job.objects.get(kind=REPORT_JOB)
    assert job.params == {"study_id": computed.pk, "fingerprint": state.fingerprint}
    client.get(reverse("study-report", args=[computed.pk]))
    assert Job.objects.filter(kind=REPORT_JOB).count() == 1  # the same recompute, not a second one
    report_refresh(study=computed)
    assert report_state(study=computed).fresh


def test_the_report_is_computed_by_a_job_on_a_real_worker(client, analyst, celery_worker):
    from tests.annotation.reports.conftest import HUMANS, judge_store, rater_complete

    study = study_make(personas=1, k=3, n=4, checks=0)
    for pid, picks in HUMANS.items():
        rater_complete(study, pid, picks)
    judge_store(study)
    client.force_login(analyst)
    page = client.get(reverse("study-report", args=[study.pk])).content.decode()
    assert "Computing the report" in page
    job = Job.objects.get(kind=REPORT_JOB)
    deadline = time.monotonic() + 30
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    snapshot = ReportSnapshot.objects.get(scope=f"study:{study.pk}")
    assert snapshot.job_id == job.pk
    # The banner polls the report's own URL as htmx; once the report is fresh it asks htmx to reload the page.
    status = client.get(reverse("study-report", args=[study.pk]), headers={"HX-Request": "true"})
    assert status["HX-Refresh"] == "true"
    old = client.get(f"/studies/{study.pk}/report/status/?was=x")
    assert old.status_code == 301
    assert old["Location"] == f"/studies/{study.pk}/report/?was=x"
    assert "hand-judge" in client.get(reverse("study-report", args=[study.pk])).content.decode()


def test_api_with_token_auth(client, analyst, computed):
    token = Token.objects.create(user=analyst)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    body = client.get(f"/api/study-reports/{computed.pk}/", **auth).json()
    assert body["status"] == "fresh"
    rows = body["report"]["tables"]["pairwise"]["rows"]
    ab = next(r for r in rows if r["rater_a"] == "Human majority" and r["rater_b"] == "hand-judge · AB")
    assert (ab["n"], ab["ties"]) == (4, 0)
    (judge,) = body["report"]["tables"]["judges"]["rows"]
    assert (judge["n"], judge["ties"]) == (8, 0)
    table = client.get(f"/api/study-reports/{computed.pk}/tables/coverage/", **auth).json()
    assert table["rows"][0]["kappa"] is None
    csv = client.get(f"/api/study-reports/{computed.pk}/tables/pairwise/?as=csv", **auth)
    assert csv["Content-Type"].startswith("text/csv")
    png = client.get(f"/api/study-reports/{computed.pk}/figures/kappa-heatmap.png/", **auth)
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get(f"/api/study-reports/{computed.pk}/").status_code in (401, 403)
    schema = client.get("/api/schema/").content.decode()
    assert "/api/study-reports/{id}/tables/{name}/" in schema


def test_coordinator_runs_a_judge_on_the_study_from_the_report_page_analyst_may_not(
    client, coordinator, analyst, computed
):
    from benchmarks.judging.models import Judge

    judge = Judge.objects.get(name="hand-judge")
    client.force_login(analyst)
    assert client.post(reverse("study-report-judge", args=[computed.pk]), {"judge": judge.pk}).status_code == 403
    assert "Run on this study" not in client.get(reverse("study-report", args=[computed.pk])).content.decode()
    assert not Job.objects.filter(kind="benchmarks.judge_run").exists()
    client.force_login(coordinator)
    response = client.post(reverse("study-report-judge", args=[computed.pk]), {"judge": judge.pk})
    assert response.status_code == 302
    job = Job.objects.get(kind="benchmarks.judge_run")
    assert job.params["judge_id"] == judge.pk
    assert len(job.params["items"]) == 4
    assert job.total == 8  # both orders
    page = client.get(reverse("study-report", args=[computed.pk])).content.decode()
    assert "Run on this study" in page


def test_a_study_with_raters_but_no_judges_still_reports(client, analyst):
    from annotation.reports.figures import FIGURES
    from tests.annotation.reports.conftest import HUMANS, rater_complete

    study = study_make(personas=1, k=3, n=4, checks=0)
    for pid, picks in list(HUMANS.items())[:2]:
        rater_complete(study, pid, picks)
    report_refresh(study=study)
    client.force_login(analyst)
    assert client.get(reverse("study-report", args=[study.pk])).status_code == 200
    for name in FIGURES:
        response = client.get(reverse("study-report-figure", args=[study.pk, name, "png"]))
        assert response.status_code == 200, name
    state = report_state(study=study)
    assert state.data["tables"]["model_model"]["rows"] == []
    assert len(state.data["tables"]["human_pairs"]["rows"]) == 1
