"""Procedural enrichment: Big Five levels and the lifestyle/value keys drawn from curated lists, by age.

The lists live in ``personas/data/enrichment.json`` (written by the project). Every item states the age band it is
drawn for (``min_age``, optional ``max_age``, inclusive), so a toddler draws from toddler items and never gets
"Reading novels…" or "Frugal and self-reliant"; a 10-year-old has no political views (no item fits, so the key stays
absent). An item may carry a ``weight``. The consistency rules read the same bands (``enrichment_vs_age``).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
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


@dataclass(frozen=True)
class CuratedItem:
    text: str
    min_age: float
    max_age: float | None = None
    weight: float = 1.0

    def fits(self, age: float | None) -> bool:
        """Whether the item is drawn for ``age``; an unknown age fits only items meant for every age."""
        if age is None:
            return self.min_age <= 0 and self.max_age is None
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)


@cache
def curated_lists() -> dict[str, tuple[CuratedItem, ...]]:
    """The curated items per key; an item without its age band is refused (it would reach toddlers)."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    lists: dict[str, tuple[CuratedItem, ...]] = {}
    for key in LIST_KEYS:
        items = []
        for item in raw.get(key, []):
            if not isinstance(item, dict) or "text" not in item or "min_age" not in item:
                raise ValueError(f"{DATA_FILE.name}: every {key!r} item needs a text and a min_age: {item!r}")
            items.append(
                CuratedItem(
                    text=str(item["text"]),
                    min_age=float(item["min_age"]),
                    max_age=float(item["max_age"]) if item.get("max_age") is not None else None,
                    weight=float(item.get("weight", 1)),
                )
            )
        lists[key] = tuple(items)
    return lists


def items_for_age(key: str, age: float | None) -> list[CuratedItem]:
    """The curated items of ``key`` drawn for a person of ``age``."""
    return [item for item in curated_lists().get(key, ()) if item.fits(age)]


def curated_item(key: str, text: str) -> CuratedItem | None:
    """The curated item of ``key`` whose text is ``text`` (case-insensitive), if any."""
    wanted = text.strip().lower()
    return next((item for item in curated_lists().get(key, ()) if item.text.lower() == wanted), None)


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
        enriched[key] = rng.choices(items, weights=[item.weight for item in items], k=1)[0].text
    return enriched
