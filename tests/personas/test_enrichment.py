from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from personas.consistency import enrichment_vs_age, persona_rules_check
from personas.enrichment import (
    BIG_FIVE_LEVELS,
    DEFAULT_LEVEL_PROBABILITIES,
    big_five_draw,
    curated_item,
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
        assert child["defining quirks"] in {i.text for i in curated_lists()["defining quirks"] if i.fits(10)}
    adult = persona_enrich({"age": "45"}, rng=random.Random(0))
    assert adult["political views"]
    assert adult["ideology"]


def test_enrichment_is_deterministic_and_keeps_existing_values() -> None:
    base = {"age": "70", "religion": "Quaker"}
    assert persona_enrich(base, rng=random.Random(5)) == persona_enrich(base, rng=random.Random(5))
    assert persona_enrich(base, rng=random.Random(5))["religion"] == "Quaker"


def test_a_toddler_draws_only_toddler_items() -> None:
    """The case seen in the wild: a 2-year-old got "Reading novels…" and "Frugal and self-reliant" (items with no
    age band)."""
    drawn: dict[str, set[str]] = {key: set() for key in ("personal time", "lifestyle", "defining quirks", "mannerisms")}
    for seed in range(300):
        toddler = persona_enrich({"age": "2", "sex": "Male"}, rng=random.Random(seed))
        for key, values in drawn.items():
            values.add(toddler[key])
    assert "Reading novels and walking in the neighbourhood" not in drawn["personal time"]
    assert "Frugal and self-reliant" not in drawn["lifestyle"]
    for key, values in drawn.items():
        assert all(curated_item(key, value).fits(2) for value in values), key


@pytest.mark.parametrize("age", range(0, 101))
def test_every_age_gets_an_age_appropriate_draw_that_the_rules_accept(age: int) -> None:
    for seed in range(5):
        persona = persona_enrich({"age": str(age)}, rng=random.Random(seed))
        for key in ("defining quirks", "mannerisms", "personal time", "lifestyle", "religion"):
            assert persona.get(key), (age, key)  # no age is left without a pool
        assert enrichment_vs_age(persona) is None


def test_every_curated_item_states_its_age_band(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(item.min_age >= 0 for items in curated_lists().values() for item in items)
    unbanded = tmp_path / "enrichment.json"
    unbanded.write_text(json.dumps({"lifestyle": ["Frugal and self-reliant"]}))
    monkeypatch.setattr("personas.enrichment.DATA_FILE", unbanded)
    curated_lists.cache_clear()
    try:
        with pytest.raises(ValueError, match="needs a text and a min_age"):
            curated_lists()
    finally:
        curated_lists.cache_clear()


def test_the_rules_catch_age_inappropriate_values_the_draw_did_not_make() -> None:
    assert persona_rules_check({"age": "2", "lifestyle": "Frugal and self-reliant"}) == [
        "a 2-year-old whose lifestyle is 'Frugal and self-reliant'"
    ]
    assert persona_rules_check({"age": "3", "personal time": "reading novels and walking in the neighbourhood"})
    assert persona_rules_check({"age": "45", "defining quirks": "Insists on building a blanket fort every weekend"})
    assert persona_rules_check({"age": "10", "political views": "Republican"})
    assert persona_rules_check({"age": "15", "political views": "Republican"}) == []  # teenagers may have views
    assert persona_rules_check({"age": "2", "lifestyle": "Active and playful"}) == []  # not one of our items
