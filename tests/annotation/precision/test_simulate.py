from __future__ import annotations

import numpy as np
import pytest

from annotation.precision.simulate import (
    AgreementProcess,
    Design,
    expected_kappa,
    headline_interval,
    process_for_kappa,
    synthetic_labels,
    synthetic_ratings,
    width_predict,
)
from annotation.reports.leave_one_out import loo_tables
from benchmarks.agreement import cohen_kappa


@pytest.mark.parametrize("raters", [2, 3, 4, 5])
def test_process_for_kappa_gives_back_the_kappa(raters: int) -> None:
    process = process_for_kappa(0.45, raters=raters, prevalence=0.6)
    assert expected_kappa(process, raters=raters) == pytest.approx(0.45, abs=1e-9)


def test_expected_kappa_is_the_kappa_of_many_simulated_pairs() -> None:
    # Two raters: the reference is the one other rater, so the headline is Cohen's kappa of two independent raters.
    process = AgreementProcess(accuracy=0.8, prevalence=0.7)
    picks = synthetic_labels(Design(2000, 2, 50), process, rounds=1, rng=np.random.default_rng(3))[0]
    observed, _ = cohen_kappa(picks[:, 0, :].ravel().astype(int), picks[:, 1, :].ravel().astype(int))
    assert observed == pytest.approx(expected_kappa(process, raters=2), abs=0.01)


def test_synthetic_rounds_scored_by_the_report_average_the_expected_kappa() -> None:
    design = Design(personas=40, raters=3, questions=10)
    process = process_for_kappa(0.5, raters=3)
    picks = synthetic_labels(design, process, rounds=20, rng=np.random.default_rng(0))
    kappas = [headline_interval(loo_tables(synthetic_ratings(design, picks[r]))["loo"]).kappa for r in range(20)]
    assert np.mean(kappas) == pytest.approx(0.5, abs=0.03)


def test_more_personas_narrow_the_interval_and_the_prediction_repeats() -> None:
    process = process_for_kappa(0.4, raters=3)
    small = width_predict(Design(12, 3, 5), process, rounds=20)
    large = width_predict(Design(36, 3, 5), process, rounds=20)
    assert small.mean_width is not None
    assert large.mean_width is not None
    assert large.mean_width < small.mean_width * 0.7  # ~1/sqrt(3) of it
    assert width_predict(Design(12, 3, 5), process, rounds=20) == small
    assert small.shown_share == 1.0


def test_too_few_personas_get_the_reports_refusal() -> None:
    prediction = width_predict(Design(3, 2, 4, 1), process_for_kappa(0.4, raters=2))
    assert prediction.mean_width is None
    assert prediction.reason == "no interval: 3 personas (the report needs at least 10)"


def test_bad_kappa_is_refused() -> None:
    with pytest.raises(ValueError, match="expected kappa"):
        process_for_kappa(1.2, raters=3)
    with pytest.raises(ValueError, match="2 raters"):
        process_for_kappa(0.4, raters=1)
