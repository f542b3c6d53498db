"""Leave-one-out: twins drawn seeded, revisions through the generator's rules, kappas equal sklearn's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sklearn.metrics import cohen_kappa_score

from benchmarks.bench.config import BenchConfigError, bench_config_parse
from benchmarks.bench.loo import loo_kappa_rows, loo_run_execute
from benchmarks.bench.models import LooRevision, LooTwin, LooVariant
from benchmarks.bench.results import bench_results
from benchmarks.bench.services import BENCH_RUN_JOB, bench_run_create
from core.jobs import JobRun
from core.models import JobStatus
from tests.factories import JobFactory
from tests.llm_mock import MockLLMServer

pytestmark = pytest.mark.django_db


def _config(**loo: Any) -> dict[str, Any]:
    settings = {
        "attributes": ["religion", "sex"],
        "personas": 4,
        "attributes_per_persona": 3,
        "answers": 3,
        "generator": "gen",
        "judge": "judge",
        **loo,
    }
    return {
        "name": "loo",
        "evaluation": "leave_one_out",
        "seed": 5,
        "source": {"prompts": "train"},
        "leave_one_out": settings,
    }


def _sklearn_kappas(run: Any) -> list[float | None]:
    expected = []
    for twin in LooTwin.objects.filter(run=run).order_by("attribute", "index"):
        picks = {
            (row.variant, row.answer_id): row.choice
            for row in LooRevision.objects.filter(twin=twin, choice__in=["with", "without"])
        }
        shared = sorted({a for v, a in picks if v == "without"} & {a for v, a in picks if v == "with"})
        a = [picks[("without", x)] for x in shared]
        b = [picks[("with", x)] for x in shared]
        if not shared or (len(set(a)) == 1 and set(a) == set(b)):
            expected.append(None)  # undefined: sklearn returns NaN with a warning
            continue
        expected.append(cohen_kappa_score(a, b, labels=["without", "with"]))
    return expected


@pytest.mark.parametrize("provider", ["offline", "anthropic"])
def test_leave_one_out_end_to_end(
    bench_data: dict[str, list[Any]], endpoint: Callable, provider: str, mock_llm: MockLLMServer
) -> None:
    if provider == "offline":
        endpoint(name="gen")
        endpoint(name="judge", model="persona_overlap")
    else:
        mock_llm.config.varied_text = True  # generated answers differ, as a model's would
        endpoint("anthropic", "mock-gen", name="gen", base_url=mock_llm.url)
        endpoint("anthropic", "mock-judge", name="judge", base_url=mock_llm.url)
    run = bench_run_create(config=bench_config_parse(_config()))
    job = JobRun(JobFactory(status=JobStatus.RUNNING, kind=BENCH_RUN_JOB, params={"run_id": run.pk}))
    loo_run_execute(bench_run=run, job=job)
    twins = LooTwin.objects.filter(run=run)
    assert twins.count() == 8
    for twin in twins:
        assert len(twin.without_attributes) == 3
        assert twin.attribute not in twin.without_attributes
        assert twin.with_attributes == {
            **twin.without_attributes,
            twin.attribute: twin.persona.attributes[twin.attribute],
        }
    revisions = LooRevision.objects.filter(twin__run=run)
    assert revisions.count() == 8 * 2 * 3
    assert revisions.filter(ok=True).exists()
    assert not revisions.filter(choice="").exists()  # every row is judged, or skipped for a failed revision
    rows = loo_kappa_rows(run=run)
    assert [row["kappa"] for row in rows] == pytest.approx(_sklearn_kappas(run), nan_ok=True)
    job.job.refresh_from_db()
    assert job.job.done + job.job.failed == job.job.total
    # A second execution has nothing left to do.
    calls = mock_llm.state.stats.copy()
    loo_run_execute(bench_run=run)
    assert mock_llm.state.stats == calls
    tables = bench_results(run=run)["tables"]
    assert {row["attribute"] for row in tables["loo_kappa_summary"]["rows"]} == {"religion", "sex"}


def test_kappa_by_hand(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    """A twin whose picks are set by hand: kappa = (p_o - p_e) / (1 - p_e)."""
    endpoint(name="gen")
    endpoint(name="judge", model="persona_overlap")
    run = bench_run_create(config=bench_config_parse(_config(attributes=["religion"], personas=2, answers=3)))
    loo_run_execute(bench_run=run)
    twin = LooTwin.objects.filter(run=run).first()
    picks = {"without": ["with", "with", "without"], "with": ["with", "without", "without"]}
    for variant, choices in picks.items():
        rows = LooRevision.objects.filter(twin=twin, variant=variant).order_by("answer_id")
        for row, choice in zip(rows, choices, strict=True):
            LooRevision.objects.filter(pk=row.pk).update(choice=choice, ok=True)
    # p_o = 2/3; p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9; kappa = (2/3 - 4/9) / (5/9) = 0.4
    row = next(r for r in loo_kappa_rows(run=run) if r["twin"] == twin.index)
    assert row["kappa"] == pytest.approx(0.4)
    assert row["n"] == 3


def test_too_few_personas_says_how_many(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="gen")
    endpoint(name="judge")
    with pytest.raises(BenchConfigError) as error:
        bench_config_parse(_config(attributes=["religion", "fertility"], personas=7))
    assert "attribute 'religion' applies to 6 personas" in str(error.value)
    assert "attribute 'fertility' applies to 0 personas" in str(error.value)
    assert LooVariant.WITH == "with"


def test_leave_one_out_results_page(
    client: Any, analyst: Any, password: str, bench_data: dict[str, list[Any]], endpoint: Callable
) -> None:
    endpoint(name="gen")
    endpoint(name="judge", model="persona_overlap")
    run = bench_run_create(config=bench_config_parse(_config()))
    loo_run_execute(bench_run=run)
    assert client.login(username=analyst.username, password=password)
    page = client.get(f"/benchmarks/bench/{run.pk}/")
    assert page.status_code == 200
    assert "Leave-one-out influence per attribute" in page.content.decode()
    figure = client.get(f"/benchmarks/bench/{run.pk}/figures/loo-kappa.png")
    assert figure.status_code == 200
    assert figure.content.startswith(b"\x89PNG")
    table = client.get(f"/benchmarks/bench/{run.pk}/tables/loo_kappa.csv").content.decode()
    assert table.splitlines()[0] == "attribute,twin,persona,n,agreement,kappa"
    assert len(table.splitlines()) == 1 + 8


def test_an_invalid_pick_stays_stored_and_a_rerun_asks_it_again_up_to_the_cap(
    bench_data: dict[str, list[Any]], endpoint: Callable, mock_llm: MockLLMServer, settings: Any
) -> None:
    settings.LLM_INVALID_RETRIES = 1
    endpoint(name="gen")  # offline: only the judge's picks reach the mock, in order
    endpoint("anthropic", "mock-judge", name="judge", base_url=mock_llm.url, concurrency=1)
    run = bench_run_create(config=bench_config_parse(_config()))
    mock_llm.enqueue("offformat", "offformat")
    loo_run_execute(bench_run=run)
    invalid = LooRevision.objects.filter(twin__run=run, choice="invalid")
    assert invalid.count() == 2
    assert {(row.judge_attempts, bool(row.judge_raw)) for row in invalid} == {(1, True)}
    asked = mock_llm.state.stats["/v1/messages"]
    mock_llm.enqueue("offformat")  # one of the two is unreadable again
    loo_run_execute(bench_run=run)
    assert mock_llm.state.stats["/v1/messages"] == asked + 2  # only the invalid picks are asked again
    assert list(invalid.values_list("judge_attempts", flat=True)) == [2]
    loo_run_execute(bench_run=run)
    assert mock_llm.state.stats["/v1/messages"] == asked + 2  # past LLM_INVALID_RETRIES: it stays invalid
