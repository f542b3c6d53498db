"""pass@k against brute-force enumeration, and pass rates with persona-clustered intervals, by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.bench.statistics import pass_at_k, pass_at_k_curve, pass_rate


def brute_force_pass_at_k(outcomes: list[bool], k: int) -> float:
    """The share of all k-subsets of the samples that contain at least one pass."""
    subsets = list(itertools.combinations(range(len(outcomes)), k))
    return sum(any(outcomes[i] for i in subset) for subset in subsets) / len(subsets)


@given(n=st.integers(1, 12), data=st.data())
def test_pass_at_k_equals_enumeration(n: int, data: st.DataObject) -> None:
    outcomes = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k([n], [sum(outcomes)], k)[0] == pytest.approx(brute_force_pass_at_k(outcomes, k), abs=1e-12)


def test_pass_at_k_closed_form_and_edges() -> None:
    # n = 10, c = 3, k = 2: 1 - C(7,2)/C(10,2) = 1 - 21/45.
    assert pass_at_k([10], [3], 2)[0] == pytest.approx(1 - 21 / 45)
    assert pass_at_k([16, 16], [0, 16], 16).tolist() == [0.0, 1.0]
    assert pass_at_k([64], [1], 16)[0] == pytest.approx(1 - math.comb(63, 16) / math.comb(64, 16))
    assert math.isnan(pass_at_k([3], [1], 4)[0])  # k > n is undefined, never 0
    with pytest.raises(ValueError, match="between 0"):
        pass_at_k([3], [4], 1)


def test_curve_averages_items_with_enough_samples() -> None:
    n, c = [4, 4, 2], [1, 0, 2]
    curve = pass_at_k_curve(n, c, 3)
    assert curve[0] == pytest.approx((1 / 4 + 0 + 1) / 3)
    assert curve[2] == pytest.approx(((1 - math.comb(3, 3) / math.comb(4, 3)) + 0) / 2)  # the n=2 item is left out


def test_pass_rate_by_hand_and_clustered_interval() -> None:
    passed = [True, True, False, False, False, True]
    personas = [1, 1, 2, 2, 3, 3]
    rate = pass_rate(passed, personas, n_resamples=2000, seed=3)
    assert (rate.estimate, rate.n, rate.successes, rate.groups) == (pytest.approx(0.5), 6, 3, 3)
    assert rate.low <= 0.5 <= rate.high
    # Resampling whole personas: the rate of a resample is one of (sum of drawn passes) / 6 with each persona
    # contributing 2, 0 or 1 passes, so the bounds are multiples of 1/6.
    assert (rate.low * 6) == pytest.approx(round(rate.low * 6))
    # Personas that always agree internally give a wider interval than independent answers would.
    independent = pass_rate(passed, list(range(6)), n_resamples=2000, seed=3)
    assert (rate.high - rate.low) >= (independent.high - independent.low) - 1e-9


def test_pass_rate_of_nothing_is_undefined() -> None:
    rate = pass_rate([], [])
    assert math.isnan(rate.estimate)
    assert rate.n == 0


def test_pass_rate_is_seeded() -> None:
    values = np.random.default_rng(0).random(50) > 0.5
    groups = np.arange(50) // 5
    assert pass_rate(values, groups, seed=7) == pass_rate(values, groups, seed=7)


def test_clustered_resamples_match_an_explicit_loop() -> None:
    """The vectorised resampling equals drawing personas one resample at a time (same seeded draws)."""
    from benchmarks.agreement.bootstrap import group_draws

    values = np.array([1, 0, 1, 1, 0, 0, 1], dtype=float)
    groups = np.array([5, 5, 7, 7, 7, 9, 9])
    codes, draws = group_draws(groups, n_resamples=200, seed=11)
    rates = []
    for row in draws:
        picked = np.concatenate([values[codes == g] for g in row])
        rates.append(picked.mean())
    low, high = np.percentile(rates, [2.5, 97.5])
    rate = pass_rate(values, groups, n_resamples=200, seed=11)
    assert (rate.low, rate.high) == (pytest.approx(low), pytest.approx(high))
