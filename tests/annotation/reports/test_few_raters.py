"""Too few raters is not a tie: a persona with one counted rater shows "no majority: 1 rater" in the report and in
majority.csv alike, the report says which figures the study lacks raters for, and Fleiss keeps every persona."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.urls import reverse

from annotation.models import Question, Study
from annotation.reports.ratings import study_ratings
from annotation.reports.study_report import report_compute
from benchmarks.judging.models import Judgment
from benchmarks.judging.services import judge_upsert
from core.llm.endpoints import endpoint_upsert
from tests.annotation.factories import study_make
from tests.annotation.reports.conftest import C, R, rater_complete


@pytest.fixture
def uneven_study(db: None) -> Study:
    """Two personas, threshold 2: entrants fill the first slot of each persona first, so three raters give the
    first persona two and the second persona one."""
    study = study_make(personas=2, k=3, n=4, checks=0)
    Study.objects.filter(pk=study.pk).update(majority_threshold=2)
    study.refresh_from_db()
    for pid, picks in (("u1", [C, C, R, R]), ("u2", [C, R, R, C]), ("u3", [C, C, R, C])):
        rater_complete(study, pid, picks)
    endpoint, _ = endpoint_upsert(name="steady-endpoint", provider="offline", model="always_a")
    judge = judge_upsert(name="steady", endpoint=endpoint)
    for question in Question.objects.filter(study_persona__study=study, kind="pair").select_related("study_persona"):
        for order in ("AB", "BA"):
            Judgment.objects.create(
                judge=judge,
                persona_id=question.study_persona.persona_id,
                pair_id=question.pair_id,
                order=order,
                choice=C,
            )
    return study


def test_one_rater_is_no_majority_not_a_tie(uneven_study: Study) -> None:
    ratings = study_ratings(study=uneven_study)
    assert sorted(ratings.raters_per_persona().values()) == [1, 2]
    report = report_compute(ratings=ratings)
    shown = ratings.majority_shown
    assert shown.count("no majority: 1 rater") == 4  # the single rater's persona
    assert "tie" not in shown[4:]
    raters = {row["rater"]: row for row in report["tables"]["raters"]["rows"]}
    assert raters["Human majority"]["no_majority"] == 4
    confusion = [row for row in report["tables"]["confusion"]["rows"] if row["human_majority"] == "no majority"]
    assert sum(value for key, value in confusion[0].items() if key.startswith("judge_")) == 4
    summary = report["summary"]
    assert any("fewer counted raters than the majority needs (2)" in s for s in summary["lacking"])
    assert any("1 personas have a single counted rater" in s for s in summary["lacking"])


def test_majority_csv_and_the_report_agree_on_the_counts(uneven_study: Study, analyst: object, client) -> None:
    client.force_login(analyst)
    report = report_compute(ratings=study_ratings(study=uneven_study))
    body = b"".join(client.get(reverse("study-export", args=[uneven_study.pk, "majority.csv"])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    kinds = Counter(
        "majority"
        if row["outcome"] in (C, R)
        else "no_majority"
        if row["outcome"].startswith("no majority")
        else row["outcome"].replace(" ", "_")
        for row in rows
    )
    assert {key: kinds.get(key, 0) for key in report["summary"]["majority_outcomes"]} == report["summary"][
        "majority_outcomes"
    ]
    assert {row["outcome"] for row in rows[4:]} == {"no majority: 1 rater"}
    shown = study_ratings(study=uneven_study).majority_shown
    assert [row["outcome"] for row in rows] == shown


def test_fleiss_keeps_the_persona_with_fewer_raters(uneven_study: Study) -> None:
    report = report_compute(ratings=study_ratings(study=uneven_study))
    fleiss = next(row for row in report["tables"]["human_baseline"]["rows"] if row["statistic"].startswith("Fleiss"))
    # Four questions have two answers (the first persona); the second persona's single answers cannot pair, but no
    # persona is dropped for having fewer raters: before, Fleiss needed equal raters per question.
    assert fleiss["n"] == 4
    assert fleiss["value"] is not None
