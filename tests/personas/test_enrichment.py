from __future__ import annotations

import random
from collections import Counter

import pytest

from personas.enrichment import (
    BIG_FIVE_LEVELS,
    DEFAULT_LEVEL_PROBABILITIES,
    big_five_draw,
    curated_lists,
    normal_level_probabilities,
    persona_enrich,
)


def test_default_level_probabilities_are_a_normal_split_at_half_and_one_sd() -> None:
    assert sum(DEFAULT_LEVEL_PROBABILITIES) == pytest.approx(1)
    assert pytest.approx((0.158655, 0.149883, 0.382925, 0.149883, 0.158655), abs=1e-6) == DEFAULT_LEVEL_PROBABILITIES
    assert normal_level_probabilities(inner=0.25, outer=2)[2] == pytest.approx(0.197413, abs=1e-6)


def test_big_five_follows_the_configured_probabilities() -> None:
    rng = random.Random(1)
    text = big_five_draw(rng)
    assert text.startswith("Openness: ")
    assert "Neuroticism: " in text
    always_high = (0, 0, 0, 1, 0)
    assert set(big_five_draw(rng, always_high).split(", ")) == {
        f"{d}: High" for d in ("Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism")
    }
    levels = Counter(part.split(": ")[1] for _ in range(2000) for part in big_five_draw(rng).split(", "))
    assert levels["Average"] / sum(levels.values()) == pytest.approx(0.383, abs=0.02)
    assert set(levels) == set(BIG_FIVE_LEVELS)
    with pytest.raises(ValueError, match="five non-negative"):
        big_five_draw(rng, (1, 2))


def test_a_ten_year_old_has_no_political_views() -> None:
    for seed in range(30):
        child = persona_enrich({"age": "10", "sex": "Female"}, rng=random.Random(seed))
        assert "political views" not in child
        assert "ideology" not in child
        assert child["religion"]
        assert child["big five scores"]
        assert child["lifestyle"]
        assert child["defining quirks"] in {
            i["text"] for i in curated_lists()["defining quirks"] if i.get("min_age", 0) <= 10 <= i.get("max_age", 200)
        }
    adult = persona_enrich({"age": "45"}, rng=random.Random(0))
    assert adult["political views"]
    assert adult["ideology"]


def test_enrichment_is_deterministic_and_keeps_existing_values() -> None:
    base = {"age": "70", "religion": "Quaker"}
    assert persona_enrich(base, rng=random.Random(5)) == persona_enrich(base, rng=random.Random(5))
    assert persona_enrich(base, rng=random.Random(5))["religion"] == "Quaker"
