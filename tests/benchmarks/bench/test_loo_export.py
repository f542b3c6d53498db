"""A leave-one-out run's answers CSV holds every pick behind its kappas: a reader recomputes the per-twin kappas and
the per-attribute summary from it with pandas and scikit-learn and gets the app's numbers. The summary says how sure
it is: the counts behind each median, an interval resampling twins, and a plain note when it cannot rank."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from benchmarks.agreement import MIN_GROUPS_FOR_INTERVAL, bootstrap_group_values
from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.loo import LOO_ANSWER_COLUMNS, loo_run_execute, loo_separation_note, loo_summary_rows
from benchmarks.bench.models import BenchRun, LooRevision
from benchmarks.bench.services import bench_run_create
from tests.personas.factories import ADULT, PersonaFactory

VARIANTS = ["without", "with"]


@pytest.fixture
def loo_run(db: None, bench_data: dict[str, list[Any]], endpoint: Callable) -> BenchRun:
    """An offline leave-one-out run over two attributes, with some picks made invalid or skipped by hand (they are
    not picks: the kappa leaves them out, and so must a reader)."""
    endpoint(name="gen")
    endpoint(name="judge", model="persona_overlap")
    config = {
        "name": "loo",
        "evaluation": "leave_one_out",
        "seed": 5,
        "source": {"prompts": "train"},
        "leave_one_out": {
            "attributes": ["religion", "sex"],
            "personas": 5,
            "attributes_per_persona": 3,
            "answers": 3,
            "generator": "gen",
            "judge": "judge",
        },
    }
    run = bench_run_create(config=bench_config_parse(config))
    loo_run_execute(bench_run=run)
    revisions = list(LooRevision.objects.filter(twin__run=run).order_by("pk"))
    # Vary the picks, so kappas differ between twins (the offline judge is deterministic), then spoil a few.
    for i, revision in enumerate(revisions):
        revision.choice = VARIANTS[(i * 7 // 3) % 2] if i % 5 else revision.choice
    revisions[0].choice = "invalid"
    revisions[3].choice = "skipped"
    LooRevision.objects.bulk_update(revisions, ["choice"])
    return run


def _csv(client: Client, url: str) -> pd.DataFrame:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return pd.read_csv(io.StringIO(response.content.decode()), keep_default_na=False)


def test_a_reader_recomputes_the_kappas_from_the_answers_csv(client: Client, analyst: Any, loo_run: BenchRun) -> None:
    client.force_login(analyst)
    answers = _csv(client, reverse("bench-run-answers-csv", args=[loo_run.pk]))
    assert list(answers.columns) == LOO_ANSWER_COLUMNS
    twins = loo_run.loo_twins.count()
    assert len(answers) == twins * loo_run.loo_answers.filter(ok=True).count()  # one row per twin and answer
    assert set(answers["attribute"]) == {"religion", "sex"}

    # What a reader does: keep the rows where both the persona and its twin picked a revision, kappa per twin.
    picked = answers[answers["picked_by_without"].isin(VARIANTS) & answers["picked_by_with"].isin(VARIANTS)]
    recomputed = {}
    for (attribute, twin), group in picked.groupby(["attribute", "twin"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns (and returns NaN) where kappa is undefined
            kappa = cohen_kappa_score(group["picked_by_without"], group["picked_by_with"], labels=VARIANTS)
        recomputed[(attribute, twin)] = (len(group), kappa)

    app = _csv(client, reverse("bench-run-table", args=[loo_run.pk, "loo_kappa", "csv"]))
    assert len(app) == twins
    for row in app.itertuples():
        n, kappa = recomputed.get((row.attribute, row.twin), (0, np.nan))
        assert row.n == n
        if row.kappa == "":
            assert np.isnan(kappa), (row.attribute, row.twin)
        else:
            assert float(row.kappa) == pytest.approx(kappa, abs=1e-6)
    assert any(row.kappa != "" for row in app.itertuples())

    summary = _csv(client, reverse("bench-run-table", args=[loo_run.pk, "loo_kappa_summary", "csv"]))
    by_attribute = pd.DataFrame(
        [{"attribute": a, "twin": t, "n": n, "kappa": k} for (a, t), (n, k) in recomputed.items()]
    ).merge(app[["attribute", "twin"]], how="right", on=["attribute", "twin"])
    by_attribute["n"] = by_attribute["n"].fillna(0)
    for row in summary.itertuples():
        twins_of = by_attribute[by_attribute["attribute"] == row.attribute]
        defined = twins_of["kappa"].dropna()
        assert (row.twins, row.defined, row.answers) == (len(twins_of), len(defined), twins_of["n"].sum())
        assert float(row.median_kappa) == pytest.approx(defined.median(), abs=1e-6)
        assert float(row.mean_kappa) == pytest.approx(defined.mean(), abs=1e-6)
        # Five twins: no interval, and no resample count that would read as if one had been drawn.
        assert (row.ci_low, row.ci_high, row.ci_resamples_defined) == ("", "", "")
        assert "5 personas" in row.ci_note
    assert list(summary["median_kappa"].astype(float)) == sorted(summary["median_kappa"].astype(float))


def test_the_page_says_when_the_data_cannot_rank_the_attributes(
    client: Client, analyst: Any, loo_run: BenchRun
) -> None:
    client.force_login(analyst)
    page = client.get(reverse("bench-run-detail", args=[loo_run.pk])).content.decode()
    assert "The data cannot rank these attributes: with 5 twins per attribute, 2 of 2 have no interval" in page
    assert reverse("bench-run-answers-csv", args=[loo_run.pk]) in page


def _twin_rows(attribute: str, kappas: list[float | None], n: int = 4) -> list[dict[str, Any]]:
    return [{"attribute": attribute, "twin": i, "n": n, "kappa": kappa} for i, kappa in enumerate(kappas)]


def test_summary_interval_resamples_twins_and_the_note_follows_it() -> None:
    rng = np.random.default_rng(1)
    apart = _twin_rows("a", list(rng.uniform(-0.9, -0.6, 12))) + _twin_rows("b", list(rng.uniform(0.6, 0.9, 12)))
    summary = loo_summary_rows(apart, n_resamples=400, seed=3)
    assert [row["attribute"] for row in summary] == ["a", "b"]
    for row in summary:
        assert (row["twins"], row["defined"], row["answers"]) == (12, 12, 48)
        assert row["ci_low"] <= row["median_kappa"] <= row["ci_high"]
        assert row["ci_resamples_defined"] == "400 of 400"
        assert row["ci_note"] == ""
    assert loo_separation_note(summary) == ""

    close = _twin_rows("a", list(rng.uniform(0.2, 0.6, 12))) + _twin_rows("b", list(rng.uniform(0.3, 0.7, 12)))
    assert loo_separation_note(loo_summary_rows(close, n_resamples=400, seed=3)).startswith(
        "The intervals of a and b overlap"
    )

    few = _twin_rows("a", [0.1, 0.2, None]) + _twin_rows("b", [0.5, 0.6, 0.7, 0.9])
    rows = loo_summary_rows(few, n_resamples=400, seed=3)
    assert rows[0]["median_kappa"] == pytest.approx(0.15)  # over the defined kappas only
    assert (rows[0]["twins"], rows[0]["defined"]) == (3, 2)
    assert all(row["ci_low"] is None and row["ci_resamples_defined"] == "" for row in rows)
    note = loo_separation_note(rows)
    assert "with 3-4 twins per attribute, 2 of 2 have no interval" in note
    assert f"at least {MIN_GROUPS_FOR_INTERVAL} twins" in note
    assert loo_separation_note(rows[:1]) == ""  # one attribute: nothing to rank


def test_bootstrap_group_values_draws_whole_groups_like_the_other_bootstraps() -> None:
    values = np.array([0.1, 0.5, np.nan, 0.9, 0.3])
    interval = bootstrap_group_values(values, statistic=lambda v: np.nanmean(v, axis=1), n_resamples=300, seed=4)
    draws = np.random.default_rng(4).integers(0, values.size, size=(300, values.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample of only the NaN group
        samples = np.nanmean(values[draws], axis=1)
    assert interval.estimate == pytest.approx(np.nanmean(values))
    assert interval.n_valid == int((~np.isnan(samples)).sum())
    low, high = np.nanpercentile(samples, [2.5, 97.5])
    assert (interval.low, interval.high) == (pytest.approx(low), pytest.approx(high))


def test_enough_twins_get_an_interval_on_the_page(
    client: Client, analyst: Any, bench_data: dict[str, list[Any]], endpoint: Callable
) -> None:
    for i in range(MIN_GROUPS_FOR_INTERVAL - len(bench_data["personas"])):
        PersonaFactory(attributes={**ADULT, "sex": "Male" if i % 2 else "Female", "religion": f"Faith x{i}"})
    endpoint(name="gen")
    endpoint(name="judge", model="persona_overlap")
    loo = {
        "attributes": ["religion"],
        "personas": MIN_GROUPS_FOR_INTERVAL,
        "attributes_per_persona": 3,
        "answers": 3,
        "generator": "gen",
        "judge": "judge",
    }
    config = {
        "name": "loo",
        "evaluation": "leave_one_out",
        "seed": 5,
        "source": {"prompts": "train"},
        "leave_one_out": loo,
    }
    run = bench_run_create(config=bench_config_parse(config))
    loo_run_execute(bench_run=run)
    # Picks set by hand (the offline judge's depend on the personas' random ids): kappa 0.4, 1 or -0.8 by twin.
    patterns = [
        (["with", "with", "without"], ["with", "without", "without"]),
        (["with", "without", "without"], ["with", "without", "without"]),
        (["with", "without", "with"], ["without", "with", "without"]),
    ]
    for twin in run.loo_twins.all():
        for variant, picks in zip(VARIANTS, patterns[twin.index % 3], strict=True):
            rows = LooRevision.objects.filter(twin=twin, variant=variant).order_by("answer_id")
            for revision, choice in zip(rows, picks, strict=True):
                LooRevision.objects.filter(pk=revision.pk).update(choice=choice)
    client.force_login(analyst)
    summary = client.get(reverse("bench-run-table", args=[run.pk, "loo_kappa_summary", "json"])).json()
    (row,) = summary["rows"]
    assert (row["twins"], row["defined"], row["answers"]) == (MIN_GROUPS_FOR_INTERVAL, 10, 30)
    assert row["median_kappa"] == pytest.approx(0.4)
    assert row["ci_low"] <= row["median_kappa"] <= row["ci_high"]
    assert (row["ci_resamples_defined"], row["ci_note"]) == ("1000 of 1000", "")
