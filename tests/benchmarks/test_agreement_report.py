"""Bootstrap intervals, Landis-Koch bands and the study report's helpers (majority vote, per-persona kappa,
position bias, agreement vs coverage)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from benchmarks.agreement import (
    UNDEFINED,
    agreement_coverage,
    bootstrap_ci,
    bootstrap_pairwise_kappa,
    krippendorff_alpha,
    landis_koch,
    landis_koch_bands,
    pairwise_kappa,
    per_group_kappa,
    position_bias,
)


def noisy_raters(seed: int, n_raters: int = 4, n_items: int = 240, n_personas: int = 24) -> tuple[np.ndarray, ...]:
    """Raters who copy a hidden truth 70 % of the time, some ratings missing; items grouped by persona."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n_items)
    ratings = np.where(rng.random((n_raters, n_items)) < 0.7, truth, rng.integers(0, 2, (n_raters, n_items)))
    ratings = ratings.astype(float)
    ratings[rng.random(ratings.shape) < 0.1] = np.nan
    personas = np.repeat(np.arange(n_personas), n_items // n_personas)
    return ratings, personas


# --- bootstrap ------------------------------------------------------------------------------------------------------


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    ratings, personas = noisy_raters(1)
    first = bootstrap_ci(krippendorff_alpha, ratings, personas, n_resamples=200, seed=5)
    again = bootstrap_ci(krippendorff_alpha, ratings, personas, n_resamples=200, seed=5)
    other = bootstrap_ci(krippendorff_alpha, ratings, personas, n_resamples=200, seed=6)
    assert (first.low, first.high) == (again.low, again.high)
    assert (first.low, first.high) != (other.low, other.high)
    assert first.low < first.estimate < first.high
    assert first.estimate == krippendorff_alpha(ratings)
    assert first.n_resamples == first.n_valid == 200


def test_bootstrap_resamples_whole_personas() -> None:
    ratings, _ = noisy_raters(2)
    one_persona = np.zeros(ratings.shape[1], dtype=int)
    result = bootstrap_ci(krippendorff_alpha, ratings, one_persona, n_resamples=20)
    # With a single cluster every resample is the whole data set: no spread at all.
    assert result.low == result.high == pytest.approx(result.estimate)


def test_fast_pairwise_bootstrap_equals_generic_bootstrap() -> None:
    ratings, personas = noisy_raters(3)
    ratings[3, personas < 20] = np.nan  # rater 3 overlaps others on 4 personas only: some resamples undefined
    fast = bootstrap_pairwise_kappa(ratings, personas, n_resamples=150, seed=11)
    generic = bootstrap_ci(lambda m: pairwise_kappa(m).kappa, ratings, personas, n_resamples=150, seed=11)
    np.testing.assert_allclose(fast.estimate, generic.estimate, atol=1e-12)
    np.testing.assert_allclose(fast.low, generic.low, atol=1e-12)
    np.testing.assert_allclose(fast.high, generic.high, atol=1e-12)
    assert np.array_equal(fast.n_valid, generic.n_valid)
    assert fast.n_valid[0, 3] < 150


def test_bootstrap_undefined_statistic_gives_undefined_interval() -> None:
    ratings = np.array([[0, 1, np.nan, np.nan], [np.nan, np.nan, 0, 1]])
    result = bootstrap_pairwise_kappa(ratings, ["p1", "p1", "p2", "p2"], n_resamples=50)
    assert np.isnan(result.estimate[0, 1])
    assert np.isnan(result.low[0, 1])
    assert np.isnan(result.high[0, 1])
    assert result.n_valid[0, 1] == 0
    with pytest.raises(ValueError, match="group ids"):
        bootstrap_ci(krippendorff_alpha, ratings, ["p1"], n_resamples=5)


# --- Landis-Koch ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kappa", "band"),
    [
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.20, "slight"),
        (0.21, "fair"),
        (0.40, "fair"),
        (0.41, "moderate"),
        (0.60, "moderate"),
        (0.61, "substantial"),
        (0.80, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
        (float("nan"), UNDEFINED),
        (None, UNDEFINED),
    ],
)
def test_landis_koch_bands(kappa: float | None, band: str) -> None:
    assert landis_koch(kappa) == band


def test_landis_koch_elementwise() -> None:
    assert landis_koch_bands([[0.5, np.nan]]).tolist() == [["moderate", UNDEFINED]]


# --- per-persona kappa ----------------------------------------------------------------------------------------------


@given(st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_per_group_kappa_equals_sklearn_per_group(seed: int) -> None:
    ratings, personas = noisy_raters(seed, n_raters=2, n_items=60, n_personas=6)
    result = per_group_kappa(ratings[0], ratings[1], personas)
    assert result.groups.tolist() == list(range(6))
    for g, persona in enumerate(result.groups):
        mask = (personas == persona) & ~np.isnan(ratings[0]) & ~np.isnan(ratings[1])
        assert result.n[g] == mask.sum()
        if not mask.any():
            assert np.isnan(result.kappa[g])
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = cohen_kappa_score(ratings[0][mask], ratings[1][mask])
        assert (np.isnan(expected) and np.isnan(result.kappa[g])) or abs(result.kappa[g] - expected) <= 1e-12


def test_per_group_kappa_undefined_groups() -> None:
    result = per_group_kappa(["A", "A", "A", "B"], ["A", "A", None, "A"], ["p", "p", "q", "r"])
    assert result.groups.tolist() == ["p", "q", "r"]
    assert np.isnan(result.kappa[0])  # both said A on every shared item
    assert result.agreement[0] == 1.0
    assert result.n.tolist() == [2, 0, 1]
    assert np.isnan(result.kappa[1])


# --- position bias --------------------------------------------------------------------------------------------------


def test_position_bias_counts_first_shown_choices() -> None:
    first = ["chosen", "rejected", "chosen", "rejected", "chosen"]
    choices = [
        ["chosen", "rejected", "chosen", "rejected", "abstain"],  # always first when decisive
        ["rejected", "chosen", None, "chosen", "rejected"],  # always second
        [None, None, None, None, "abstain"],  # never decisive
    ]
    result = position_bias(choices, first, options=("chosen", "rejected"))
    assert result.n_first.tolist() == [4, 0, 0]
    assert result.n_decisive.tolist() == [4, 4, 0]
    assert result.n_other.tolist() == [1, 0, 1]
    assert result.share_first[0] == 1.0
    assert result.share_first[1] == 0.0
    assert np.isnan(result.share_first[2])
    assert result.p_value[0] == pytest.approx(stats.binomtest(4, 4, 0.5).pvalue)
    assert np.isnan(result.p_value[2])


def test_position_bias_always_a_judge() -> None:
    rng = np.random.default_rng(0)
    first = rng.choice(["chosen", "rejected"], size=500)
    always_a = position_bias(first, first, options=("chosen", "rejected"))  # picks whatever is shown first
    assert always_a.share_first[0] == 1.0
    assert always_a.p_value[0] < 1e-10
    with pytest.raises(ValueError, match="options"):
        position_bias(["chosen"], ["A"], options=("chosen", "rejected"))


# --- agreement vs coverage ------------------------------------------------------------------------------------------


def test_agreement_coverage_curve() -> None:
    judge = ["A", "A", "B", "B", "A", None]
    human = ["A", "A", "A", "B", "B", "A"]
    confidence = [90, 90, 80, 70, np.nan, 99]
    curve = agreement_coverage(judge, human, confidence)
    assert curve.threshold.tolist() == [90, 80, 70]  # ties together; NaN confidence and missing labels left out
    assert curve.n.tolist() == [2, 3, 4]
    np.testing.assert_allclose(curve.coverage, [0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.agreement, [1.0, 2 / 3, 3 / 4])
    assert np.isnan(curve.kappa[0])  # both said A on the two most confident items
    full = pairwise_kappa([judge[:4], human[:4]])
    assert curve.kappa[-1] == pytest.approx(full.kappa[0, 1], abs=1e-12)


def test_agreement_coverage_empty() -> None:
    curve = agreement_coverage(["A"], [None], [50])
    assert curve.n.size == 0
    assert curve.coverage.size == 0
