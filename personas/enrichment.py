"""Procedural enrichment: Big Five levels and the lifestyle/value keys drawn from curated lists, by age.

The lists live in ``personas/data/enrichment.json`` (written by the project). An item may carry ``min_age`` /
``max_age`` (a 10-year-old has no political views: no item fits, so the key stays absent) and a ``weight``.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from functools import cache
from pathlib import Path

BIG_FIVE_DOMAINS = ("Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism")
BIG_FIVE_LEVELS = ("Extremely Low", "Low", "Average", "High", "Extremely High")
DATA_FILE = Path(__file__).parent / "data" / "enrichment.json"
LIST_KEYS = ("defining quirks", "mannerisms", "personal time", "lifestyle", "ideology", "political views", "religion")


def _normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def normal_level_probabilities(*, inner: float = 0.5, outer: float = 1.0) -> tuple[float, ...]:
    """Level probabilities from a standard normal cut at ±inner and ±outer SD (default ±0.5, ±1.0)."""
    cuts = [_normal_cdf(-outer), _normal_cdf(-inner), _normal_cdf(inner), _normal_cdf(outer)]
    edges = [0.0, *cuts, 1.0]
    return tuple(high - low for low, high in itertools.pairwise(edges))


DEFAULT_LEVEL_PROBABILITIES = normal_level_probabilities()


def big_five_draw(rng: random.Random, probabilities: tuple[float, ...] = DEFAULT_LEVEL_PROBABILITIES) -> str:
    """One level per BFI-2 domain, as PERSONA writes it: "Openness: High, Conscientiousness: Average, …"."""
    if len(probabilities) != len(BIG_FIVE_LEVELS) or any(p < 0 for p in probabilities) or sum(probabilities) <= 0:
        raise ValueError("level probabilities must be five non-negative numbers with a positive sum")
    levels = rng.choices(BIG_FIVE_LEVELS, weights=probabilities, k=len(BIG_FIVE_DOMAINS))
    return ", ".join(f"{domain}: {level}" for domain, level in zip(BIG_FIVE_DOMAINS, levels, strict=True))


@cache
def curated_lists() -> dict[str, list[dict[str, object]]]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {
        key: [item if isinstance(item, dict) else {"text": item} for item in raw[key]]
        for key in LIST_KEYS
        if key in raw
    }


def items_for_age(key: str, age: float | None) -> list[dict[str, object]]:
    """The curated items of ``key`` that fit a person of ``age`` (unknown age: items without an age limit)."""
    fitting = []
    for item in curated_lists().get(key, []):
        low, high = item.get("min_age"), item.get("max_age")
        if age is None:
            if low is None and high is None:
                fitting.append(item)
        elif (low is None or age >= low) and (high is None or age <= high):  # type: ignore[operator]
            fitting.append(item)
    return fitting


def persona_enrich(
    attributes: dict[str, str],
    *,
    rng: random.Random,
    level_probabilities: tuple[float, ...] = DEFAULT_LEVEL_PROBABILITIES,
) -> dict[str, str]:
    """A copy of ``attributes`` with the procedural keys filled in; keys already present are kept."""
    enriched = dict(attributes)
    try:
        age: float | None = float(attributes["age"])
    except (KeyError, ValueError):
        age = None
    enriched.setdefault("big five scores", big_five_draw(rng, level_probabilities))
    for key in LIST_KEYS:
        items = items_for_age(key, age)
        if key in enriched or not items:
            continue
        weights = [float(item.get("weight", 1)) for item in items]  # type: ignore[arg-type]
        enriched[key] = str(rng.choices(items, weights=weights, k=1)[0]["text"])
    return enriched
