"""Every figure and table of a bench run (and of a comparison), downloaded through its URL by an analyst and a
coordinator, for every shape a run's data can take: a decodable image or a parseable file, or a clear "not enough
data" image, never a 500. Figures come from the code's registry (``FIGURES``, ``figure_names``) and tables from the
results themselves, so a new figure or table is covered without touching this file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.figures import FIGURES, figure_names
from benchmarks.bench.loo import loo_run_execute
from benchmarks.bench.models import BenchAnswer, BenchRun, LooRevision, Verdict
from benchmarks.bench.services import bench_run_create, bench_run_execute
from core.report_kit import FIGURE_FORMATS as FORMATS
from tests.downloads import figure_check, table_check

pytestmark = pytest.mark.django_db

TABLE_FORMATS = ("csv", "json")


def _personalization(**config: Any) -> BenchRun:
    settings = {
        "name": "shapes",
        "models": ["m"],
        "critic": "c",
        "methods": ["persona", "demographic_summary"],
        "items": 4,
        "samples": 2,
        "k": 2,
        "slices": [{"sex": "Male"}],
        **config,
    }
    return bench_run_create(config=bench_config_parse(settings))


def _loo(**loo: Any) -> BenchRun:
    settings = {
        "attributes": ["religion", "sex"],
        "personas": 4,
        "attributes_per_persona": 3,
        "answers": 3,
        "generator": "m",
        "judge": "c",
        **loo,
    }
    config = {
        "name": "loo shapes",
        "evaluation": "leave_one_out",
        "seed": 5,
        "source": {"prompts": "train"},
        "leave_one_out": settings,
    }
    return bench_run_create(config=bench_config_parse(config))


def _judged() -> tuple[BenchRun, str]:
    run = _personalization()
    bench_run_execute(bench_run=run)
    return run, ""


def _nothing_answered() -> tuple[BenchRun, str]:
    return _personalization(), ""


def _only_pending() -> tuple[BenchRun, str]:
    run, _ = _judged()
    BenchAnswer.objects.filter(run=run).update(verdict=Verdict.PENDING, dropped_attributes=None)
    return run, ""


def _all_invalid() -> tuple[BenchRun, str]:
    run, _ = _judged()
    BenchAnswer.objects.filter(run=run).update(verdict=Verdict.INVALID)
    return run, ""


def _filtered_to_nobody() -> tuple[BenchRun, str]:
    run, _ = _judged()
    return run, "?filter=age=90-99"


def _loo_judged() -> tuple[BenchRun, str]:
    run = _loo()
    loo_run_execute(bench_run=run)
    return run, ""


def _loo_not_started() -> tuple[BenchRun, str]:
    return _loo(), ""


def _loo_all_invalid() -> tuple[BenchRun, str]:
    run, _ = _loo_judged()
    LooRevision.objects.filter(twin__run=run).update(choice="invalid")
    return run, ""


def _loo_one_side() -> tuple[BenchRun, str]:
    """Every persona and twin picked its own revision: each twin's kappa is undefined or -1 (no single-label kappa)."""
    run, _ = _loo_judged()
    for variant in ("with", "without"):
        LooRevision.objects.filter(twin__run=run, variant=variant).update(choice=variant)
    return run, ""


SHAPES: dict[str, Callable[[], tuple[BenchRun, str]]] = {
    "judged": _judged,
    "nothing_answered": _nothing_answered,
    "only_pending": _only_pending,
    "all_invalid": _all_invalid,
    "filtered_to_nobody": _filtered_to_nobody,
    "loo_judged": _loo_judged,
    "loo_not_started": _loo_not_started,
    "loo_all_invalid": _loo_all_invalid,
    "loo_one_side": _loo_one_side,
}


@pytest.fixture
def endpoints(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="m")
    endpoint(name="c", model="persona_overlap")


def _crawl(client: Client, run: BenchRun, query: str) -> set[str]:
    """Every figure (PNG, SVG) and table (CSV, JSON) of the run's page, its results and answers; the figures drawn."""
    page = client.get(reverse("bench-run-detail", args=[run.pk]) + query)
    assert page.status_code == 200
    html = page.content.decode()
    results = table_check(client.get(reverse("bench-run-json", args=[run.pk]) + query), "json")
    api = client.get(f"/api/bench-runs/{run.pk}/results/" + query)
    assert api.status_code == 200
    assert api.json()["tables"] == results["tables"]
    drawable = dict(figure_names(results))
    for name in FIGURES:
        for fmt in FORMATS:
            url = reverse("bench-run-figure", args=[run.pk, name, fmt])
            response = client.get(url + query)
            if name in drawable:
                assert url in html
                figure_check(response, fmt)
            else:
                assert response.status_code == 404  # a figure this kind of run does not have
    for name, table in results["tables"].items():
        for fmt in TABLE_FORMATS:
            url = reverse("bench-run-table", args=[run.pk, name, fmt])
            assert url in html
            downloaded = table_check(client.get(url + query), fmt, columns=table["columns"])
            if fmt == "csv":
                assert len(downloaded) == len(table["rows"])
            else:
                assert downloaded == table
    table_check(client.get(reverse("bench-run-answers-csv", args=[run.pk])), "csv")
    return set(drawable)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_figure_and_table_downloads(
    client: Client, analyst: Any, coordinator: Any, endpoints: None, shape: str
) -> None:
    run, query = SHAPES[shape]()
    for user in (analyst, coordinator):
        client.force_login(user)
        _crawl(client, run, query)


def test_every_registered_figure_is_drawn_by_some_run(client: Client, analyst: Any, endpoints: None) -> None:
    client.force_login(analyst)
    drawn = _crawl(client, _judged()[0], "") | _crawl(client, _loo_judged()[0], "")
    assert drawn == set(FIGURES)


@pytest.mark.parametrize("answered", [True, False])
def test_comparison_figures_and_tables_download(
    client: Client, coordinator: Any, endpoints: None, answered: bool
) -> None:
    runs = [_judged()[0] if answered else _personalization() for _ in range(2)]
    query = {"runs": [run.pk for run in runs]}
    client.force_login(coordinator)
    page = client.get(reverse("bench-compare"), query)
    assert page.status_code == 200
    tables = page.context["tables"]
    drawable = dict(page.context["figures"])
    assert drawable
    for name in FIGURES:
        for fmt in FORMATS:
            response = client.get(reverse("bench-compare-figure", args=[name, fmt]), query)
            if name in drawable:
                figure_check(response, fmt)
            else:
                assert response.status_code == 404
    for table in tables:
        for fmt in TABLE_FORMATS:
            downloaded = table_check(client.get(reverse("bench-compare-table", args=[table["name"], fmt]), query), fmt)
            assert len(downloaded if fmt == "csv" else downloaded["rows"]) == len(table["rows"])
