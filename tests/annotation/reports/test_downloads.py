"""Every figure and table of the study report, downloaded through its URL (page, download and API) by an analyst and a
coordinator, for every shape a study's data can take: a decodable image or a parseable file, or a clear "not enough
data" image/message, never a 500. Figures and tables are enumerated from the code's own registries (``FIGURES``, the
computed report's tables, ``TABLE_ORDER``), so a new one is covered without touching this file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from matplotlib.figure import Figure

from annotation.models import Question, Study
from annotation.reports.figures import FIGURES
from annotation.reports.services import report_refresh, report_state
from annotation.reports.views import TABLE_ORDER
from benchmarks.judging.models import Judge, Judgment
from benchmarks.judging.services import judge_upsert
from core.llm.endpoints import endpoint_upsert
from core.report_kit import FIGURE_FORMATS as FORMATS
from tests.annotation.factories import study_make
from tests.annotation.reports.conftest import HUMANS, C, R, judge_store, rater_complete
from tests.downloads import figure_check, table_check

pytestmark = pytest.mark.django_db

TABLE_FORMATS = ("csv", "json")


def _study(*, personas: int = 1, k: int = 3, threshold: int = 2, n: int = 4, raters: dict[str, list[str]]) -> Study:
    study = study_make(personas=personas, k=k, n=n, checks=0)
    Study.objects.filter(pk=study.pk).update(majority_threshold=threshold)
    study.refresh_from_db()
    for pid, picks in raters.items():
        rater_complete(study, pid, picks)
    return study


def _judge(study: Study, name: str, ab: list[str], ba: list[str] | None) -> Judge:
    """A judge whose reply to the i-th pair question (in each order) is ``ab[i % len]`` / ``ba[i % len]``; ``ba``
    None: the judge never saw the rejected-first order."""
    endpoint, _ = endpoint_upsert(name=f"{name}-endpoint", provider="offline", model="always_a")
    judge = judge_upsert(name=name, endpoint=endpoint)
    questions = Question.objects.filter(study_persona__study=study, kind="pair").select_related("study_persona")
    for i, question in enumerate(questions.order_by("study_persona__position", "position")):
        for order, picks in (("AB", ab), ("BA", ba)):
            if picks is not None:
                persona = question.study_persona.persona_id
                choice = picks[i % len(picks)]
                Judgment.objects.create(
                    judge=judge, persona_id=persona, pair_id=question.pair_id, order=order, choice=choice
                )
    return judge


def _with_judges() -> Study:
    study = _study(raters=HUMANS)
    judge_store(study)  # gives a confidence: the coverage figure has a curve
    _judge(study, "steady", [C], [R])  # two judges: the model-model matrix has a pair
    return study


def _no_judges() -> Study:
    return _study(raters=HUMANS)


def _one_rater_per_persona() -> Study:
    # Entrants fill the first slot of each persona first: two raters, one on each persona.
    study = _study(personas=2, raters={"u1": [C, C, R, R], "u2": [C, R, R, C]})
    _judge(study, "steady", [C], [C])
    return study


def _only_ties() -> Study:
    study = _study(k=2, raters={"t1": [C, C, R, R], "t2": [R, R, C, C]})
    _judge(study, "steady", [C, R], [C, R])
    return study


def _judge_only_abstains() -> Study:
    study = _study(raters=HUMANS)
    _judge(study, "shrugs", ["abstain"], ["abstain"])
    return study


def _judge_all_invalid() -> Study:
    study = _study(raters=HUMANS)
    _judge(study, "garbled", ["invalid"], ["invalid"])
    return study


def _one_order_only() -> Study:
    study = _study(raters=HUMANS)
    _judge(study, "half-done", [C, R], None)
    return study


def _ten_personas() -> Study:
    """Enough personas for the bootstrap intervals to be shown (10+)."""
    raters = {f"p{i}": [C, R] if i % 3 else [R, R] for i in range(20)}
    study = _study(personas=10, k=2, n=2, raters=raters)
    _judge(study, "steady", [C, R, R], [C, C, R])
    return study


SHAPES: dict[str, Callable[[], Study]] = {
    "judges": _with_judges,
    "no_judges": _no_judges,
    "one_rater_per_persona": _one_rater_per_persona,
    "only_ties": _only_ties,
    "judge_only_abstains": _judge_only_abstains,
    "judge_all_invalid": _judge_all_invalid,
    "one_order_only": _one_order_only,
    "ten_personas": _ten_personas,
}


def _crawl(client: Client, study: Study) -> dict[str, Any]:
    """Every figure (PNG, SVG) and table (CSV, JSON) the report page links, and the same through the API."""
    page = client.get(reverse("study-report", args=[study.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    report = table_check(client.get(reverse("study-report-json", args=[study.pk])), "json")
    tables = report["tables"]
    assert set(TABLE_ORDER) <= set(tables)
    for name in FIGURES:
        for fmt in FORMATS:
            url = reverse("study-report-figure", args=[study.pk, name, fmt])
            assert url in html  # the page embeds the SVG and links both downloads
            figure_check(client.get(url), fmt)
            figure_check(client.get(f"/api/study-reports/{study.pk}/figures/{name}.{fmt}/"), fmt)
    for name, table in tables.items():
        for fmt in TABLE_FORMATS:
            url = reverse("study-report-table", args=[study.pk, name, fmt])
            downloaded = table_check(client.get(url), fmt, columns=table["columns"])
            if fmt == "csv":
                assert len(downloaded) == len(table["rows"])
            else:
                assert downloaded == table
        api = client.get(f"/api/study-reports/{study.pk}/tables/{name}/", {"as": "csv"})
        rows = table_check(api, "csv", columns=table["columns"])
        assert len(rows) == len(table["rows"])
        assert table_check(client.get(f"/api/study-reports/{study.pk}/tables/{name}/"), "json") == table
    return report


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_figure_and_table_downloads(client: Client, analyst: Any, coordinator: Any, shape: str) -> None:
    study = SHAPES[shape]()
    report_refresh(study=study)
    for user in (analyst, coordinator):
        client.force_login(user)
        _crawl(client, study)


def _texts(report: dict[str, Any], name: str) -> str:
    """Every text a figure draws (titles, labels, messages), through the figure registry."""
    fig = Figure()
    FIGURES[name][1](fig, report)
    artists = [*fig.texts, *(text for ax in fig.axes for text in ax.texts)]
    titles = [ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]
    return " ".join([*(text.get_text() for text in artists), *titles])


def test_figures_without_data_say_why_in_words() -> None:
    study = _no_judges()
    report = report_refresh(study=study).data
    for name in ("kappa-heatmap", "model-matrix", "persona-kappa", "position-bias", "coverage"):
        assert "judge" in _texts(report, name).lower(), name
    ones = _one_rater_per_persona()
    assert "two raters" in _texts(report_refresh(study=ones).data, "human-baseline")


def test_position_bias_figure_labels_each_judge_with_its_counts() -> None:
    """The figure reads the table's own columns: share_first over n_replies decisive replies on n_items questions."""
    study = _with_judges()
    report = report_refresh(study=study).data
    rows = {row["judge"]: row for row in report["tables"]["position_bias"]["rows"]}
    text = _texts(report, "position-bias")
    for judge, row in rows.items():
        assert f"{row['share_first']:.2f} (n={row['n_replies']} replies, {row['n_items']} questions)" in text, judge
    shrugs = report_refresh(study=_judge_only_abstains()).data
    assert "undefined (n=0 replies" in _texts(shrugs, "position-bias")


def test_an_empty_study_says_so_instead_of_failing(client: Client, analyst: Any, coordinator: Any) -> None:
    study = study_make(personas=1, k=2, n=2)
    for user in (analyst, coordinator):
        client.force_login(user)
        assert "No completed participants yet" in client.get(reverse("study-report", args=[study.pk])).content.decode()
        for name in FIGURES:
            for fmt in FORMATS:
                response = client.get(reverse("study-report-figure", args=[study.pk, name, fmt]))
                figure_check(response, fmt)  # a "no report yet" image, not a broken one
        for name in TABLE_ORDER:
            for fmt in TABLE_FORMATS:
                response = client.get(reverse("study-report-table", args=[study.pk, name, fmt]))
                assert response.status_code == 404
                assert "No completed participants yet" in response.content.decode()
        response = client.get(reverse("study-report-json", args=[study.pk]))
        assert response.status_code == 404
        assert "No completed participants yet" in response.content.decode()
        assert client.get(f"/api/study-reports/{study.pk}/").json()["status"] == "empty"
    assert report_state(study=study).snapshot is None
