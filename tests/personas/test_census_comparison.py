from __future__ import annotations

import pytest
from scipy import stats

from personas.census_comparison import attribute_compare, chi_square_test, shares, total_variation_distance


def test_total_variation_distance() -> None:
    assert total_variation_distance({"a": 1.0}, {"a": 1.0}) == 0
    assert total_variation_distance({"a": 1.0}, {"b": 1.0}) == 1
    assert total_variation_distance({"a": 0.5, "b": 0.5}, {"a": 0.8, "b": 0.2}) == pytest.approx(0.3)


def test_chi_square_matches_scipy_and_pools_small_categories() -> None:
    observed = {"a": 30, "b": 50, "c": 20}
    expected = {"a": 0.25, "b": 0.5, "c": 0.25}
    result = chi_square_test(observed, expected)
    reference = stats.chisquare([30, 50, 20], [25, 50, 25])
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.dof == 2
    pooled = chi_square_test({"a": 48, "b": 50, "x": 2}, {"a": 0.5, "b": 0.48, "c": 0.01, "d": 0.01})
    assert pooled.dof == 2  # a, b, and the pool of c, d, x
    assert chi_square_test({}, expected) is None


def test_attribute_compare_bins_age_in_natural_order() -> None:
    census = {"0-17": 200.0, "18-24": 100.0, "75+": 100.0, "(not applicable)": 0.0}
    comparison = attribute_compare("age", ["5", "20", "80", "81"], census)
    assert comparison.categories[:3] == ["0-17", "18-24", "75+"]
    assert comparison.persona_counts[:3] == [1, 1, 2]
    assert comparison.census_shares[0] == pytest.approx(0.5)
    assert comparison.tvd == pytest.approx(
        total_variation_distance(shares({"0-17": 1, "18-24": 1, "75+": 2}), shares(census))
    )
