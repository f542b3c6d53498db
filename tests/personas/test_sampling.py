from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow.parquet as pq
from scipy import stats

from personas.models import CensusDataset
from personas.pums.importer import RECORD_ID
from personas.sampling import personas_sample, sample_indices


def test_same_seed_same_records_and_different_seed_differs(dataset: CensusDataset) -> None:
    first = personas_sample(dataset=dataset, n=10, seed=7)
    again = personas_sample(dataset=dataset, n=10, seed=7)
    other = personas_sample(dataset=dataset, n=10, seed=8)
    assert first == again
    assert [r.record_id for r in first] != [r.record_id for r in other]


def test_sampled_records_are_decoded(dataset: CensusDataset) -> None:
    records = personas_sample(dataset=dataset, n=31, seed=1)
    by_id = {r.record_id: r.attributes for r in records}
    head = by_id["2018HU0010001:01"]
    assert head["age"] == "30"
    assert head["sex"] == "Male"
    assert head["education"] == "Regular high school diploma"
    assert head["income"] == "73956.0"
    assert head["household type"] == "Married couple household"
    assert "fertility" not in head  # blank code = not applicable = absent


def test_probability_is_proportional_to_weight() -> None:
    weights = np.array([1.0, 3.0, 0.0, 6.0])
    draws = np.concatenate([sample_indices(weights, n=1, seed=seed) for seed in range(4000)])
    counts = np.bincount(draws, minlength=4) / len(draws)
    assert counts[2] == 0  # zero weight is never drawn
    np.testing.assert_allclose(counts, [0.1, 0.3, 0.0, 0.6], atol=0.03)


def test_more_personas_than_weighted_records_samples_with_replacement() -> None:
    chosen = sample_indices(np.array([1.0, 0.0, 2.0]), n=50, seed=3)
    assert len(chosen) == 50
    assert set(chosen.tolist()) <= {0, 2}


def test_selection_frequencies_match_the_weights_when_a_large_share_is_drawn() -> None:
    """The case that went wrong: n is over a quarter of the records, weights are skewed. Each draw must land on
    record i with probability w_i / sum(w), so the heaviest tenth gets its weight share of the draws (not less)."""
    weights = np.random.default_rng(0).lognormal(mean=4.0, sigma=0.8, size=2000).round()
    top = np.argsort(-weights)[: len(weights) // 10]
    expected = weights[top].sum() / weights.sum()
    draws = np.concatenate([sample_indices(weights, n=550, seed=seed) for seed in range(40)])
    observed = np.isin(draws, top).mean()
    standard_error = np.sqrt(expected * (1 - expected) / len(draws))
    assert abs(observed - expected) < 4 * standard_error, (observed, expected)
    # Every weight decile, not only the top one: a chi-square goodness of fit over the ten deciles.
    deciles = np.array_split(np.argsort(weights), 10)
    observed_counts = [np.isin(draws, members).sum() for members in deciles]
    expected_counts = [weights[members].sum() / weights.sum() * len(draws) for members in deciles]
    assert stats.chisquare(observed_counts, expected_counts).pvalue > 0.001


def test_sampled_records_of_a_synthetic_file_follow_pwgtp(dataset: CensusDataset) -> None:
    """On the 31-record fixture file, drawing 20 at a time: selection frequencies ∝ PWGTP within sampling error."""
    weights = pq.read_table(dataset.records_file, columns=["PWGTP", RECORD_ID]).to_pandas()
    share = dict(zip(weights[RECORD_ID], weights["PWGTP"] / weights["PWGTP"].sum(), strict=True))
    counts: Counter[str] = Counter()
    seeds, n = 150, 20
    for seed in range(seeds):
        counts.update(record.record_id for record in personas_sample(dataset=dataset, n=n, seed=seed))
    ids = sorted(share)
    result = stats.chisquare([counts[i] for i in ids], [share[i] * seeds * n for i in ids])
    assert result.pvalue > 0.001, result
