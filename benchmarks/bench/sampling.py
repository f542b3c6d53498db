"""Which (persona, question) items a run answers, and which personas a filter or slice matches.

``bench_items_sample`` is the one place items are drawn: from preference pairs in the config's splits, or from
prompts of a split x the matching personas; both orderings are by id before a seeded draw, so the same config and
seed give the same items.
"""

from __future__ import annotations

import random
import re
from typing import Any, Protocol

from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from personas.models import Persona


class ItemDraw(Protocol):
    """What ``bench_items_sample`` reads of a run's config (``benchmarks.bench.config.BenchConfig`` is one; the
    config imports this module, so this one names its fields instead of importing it)."""

    @property
    def items(self) -> int: ...

    @property
    def seed(self) -> int: ...

    @property
    def pair_splits(self) -> tuple[str, ...]: ...

    @property
    def dataset(self) -> str: ...

    @property
    def prompt_split(self) -> str: ...

    @property
    def persona_filter(self) -> dict[str, Any]: ...


_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _value_matches(actual: Any, wanted: Any) -> bool:
    if actual in (None, ""):
        return False
    if isinstance(wanted, str) and (bounds := _RANGE.match(wanted)):
        number = _number(actual)
        return number is not None and float(bounds.group(1)) <= number <= float(bounds.group(2))
    if isinstance(wanted, int | float) and not isinstance(wanted, bool):
        return _number(actual) == float(wanted)
    return str(actual).strip().lower() == str(wanted).strip().lower()


def persona_matches(attributes: dict[str, Any], filters: dict[str, Any]) -> bool:
    """Whether a persona's attributes match every filter: a value (case-insensitive), a "lo-hi" numeric range
    (inclusive, e.g. age "18-34") or a list of such alternatives. An absent attribute matches nothing."""
    for key, wanted in filters.items():
        alternatives = wanted if isinstance(wanted, list) else [wanted]
        if not any(_value_matches(attributes.get(key), option) for option in alternatives):
            return False
    return True


def slice_label(filters: dict[str, Any]) -> str:
    return ", ".join(f"{key} = {value}" for key, value in filters.items()) or "all personas"


def bench_items_sample(*, config: ItemDraw) -> list[tuple[int, int, int | None]]:
    """N seeded (persona id, prompt id, pair id or None) items for ``config``, restricted to ``persona_filter``
    (and to the pairs of ``config.dataset`` when one is named)."""
    personas = {
        pk: attributes
        for pk, attributes in Persona.objects.usable().values_list("pk", "attributes")
        if persona_matches(attributes, config.persona_filter)
    }
    candidates: list[tuple[int, int, int | None]]
    if config.prompt_split:
        prompts = list(Prompt.objects.filter(split=config.prompt_split).order_by("pk").values_list("pk", flat=True))
        candidates = [(persona, prompt, None) for persona in sorted(personas) for prompt in prompts]
    else:
        pairs = PreferencePair.objects.usable().filter(split__in=config.pair_splits, persona__isnull=False)
        if config.dataset:
            pairs = pairs.filter(dataset__name=config.dataset)
        rows = pairs.order_by("pk").values_list("persona_id", "prompt_id", "pk")
        candidates = [(persona, prompt, pair) for persona, prompt, pair in rows if persona in personas]
    rng = random.Random(config.seed)
    if len(candidates) <= config.items:
        return candidates
    return [candidates[index] for index in sorted(rng.sample(range(len(candidates)), config.items))]


def _present(attributes: dict[str, Any]) -> list[str]:
    return sorted(key for key, value in attributes.items() if value not in (None, ""))


def loo_candidates(*, attribute: str, others: int) -> list[tuple[int, dict[str, Any]]]:
    """Personas (by id) where ``attribute`` applies and that have at least ``others`` other attributes."""
    rows = Persona.objects.usable().order_by("pk").values_list("pk", "attributes")
    return [
        (pk, attributes)
        for pk, attributes in rows
        if attributes.get(attribute) not in (None, "") and len(_present(attributes)) - 1 >= others
    ]


def loo_twins_draw(
    *, attribute: str, personas: int, others: int, seed: int
) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """``personas`` seeded (persona id, attributes without ``attribute``, the twin's with it) for leave-one-out.

    Each persona keeps ``others`` of its other attributes, drawn at random; the twin adds ``attribute``'s value.
    Raises ``ValueError`` saying how many personas ``attribute`` applies to when they are too few.
    """
    candidates = loo_candidates(attribute=attribute, others=others)
    if len(candidates) < personas:
        raise ValueError(
            f"attribute {attribute!r} applies to {len(candidates)} personas (with {others} other attributes); "
            f"the leave-one-out sample needs {personas}"
        )
    rng = random.Random(f"{seed}:{attribute}")
    drawn = []
    for index in sorted(rng.sample(range(len(candidates)), personas)):
        pk, attributes = candidates[index]
        kept = rng.sample([key for key in _present(attributes) if key != attribute], others)
        without = {key: attributes[key] for key in sorted(kept)}
        drawn.append((pk, without, {**without, attribute: attributes[attribute]}))
    return drawn
