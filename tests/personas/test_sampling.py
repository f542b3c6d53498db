from __future__ import annotations

import numpy as np

from personas.models import CensusDataset
from personas.sampling import personas_sample, sample_indices


def test_same_seed_same_records_and_different_seed_differs(dataset: CensusDataset) -> None:
    first = personas_sample(dataset=dataset, n=10, seed=7)
    again = personas_sample(dataset=dataset, n=10, seed=7)
    other = personas_sample(dataset=dataset, n=10, seed=8)
    assert first == again
    assert [r.record_id for r in first] != [r.record_id for r in other]
    assert len({r.record_id for r in first}) == 10  # without replacement while there is enough data


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
