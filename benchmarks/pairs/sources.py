"""Where a study's questions come from: each pair source is a small named filter with the options it offers.

A source answers two questions — which values can a coordinator pick (with how many pairs each), and which pairs
does a value select — so the pairs page and the study builder list and apply every source the same way. Another
module adds a source with ``pair_source_register`` (a generated dataset and its split, for instance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Q

from benchmarks.datasets.selection import dataset_source_options, dataset_source_select
from benchmarks.pairs.models import PairBatch, PairSplit, PreferencePair, PreferencePairQuerySet

NO_TOPIC = "-"


@dataclass(frozen=True)
class SourceOption:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class PairSource:
    key: str  # the query parameter: ?batch=3&topic=health
    label: str
    options: Callable[[], list[SourceOption]]
    select: Callable[[PreferencePairQuerySet, str], PreferencePairQuerySet]


_SOURCES: dict[str, PairSource] = {}


def pair_source_register(source: PairSource) -> None:
    _SOURCES[source.key] = source


def pair_sources() -> list[PairSource]:
    return list(_SOURCES.values())


def pairs_select(*, choices: dict[str, str], base: PreferencePairQuerySet | None = None) -> PreferencePairQuerySet:
    """The pairs every chosen source value selects (sources combine with AND; an empty value = no filter)."""
    pairs = base if base is not None else PreferencePair.objects.all()
    for key, value in choices.items():
        source = _SOURCES.get(key)
        if source is not None and value:
            pairs = source.select(pairs, value)
    return pairs


def pair_source_choices(data: object) -> dict[str, str]:
    """The source values in a query dict (unknown keys ignored), e.g. ``request.GET``."""
    get = getattr(data, "get", None)
    if get is None:
        return {}
    return {source.key: str(get(source.key) or "").strip() for source in _SOURCES.values() if get(source.key)}


def pair_choices_describe(choices: dict[str, str]) -> str:
    """A readable line for chosen source values: "Import batch: Demo pairs · Topic: health"."""
    parts = []
    for key, value in choices.items():
        source = _SOURCES.get(key)
        if source is None or not value:
            continue
        label = next((option.label for option in source.options() if option.value == value), value)
        parts.append(f"{source.label}: {label}")
    return " · ".join(parts) or "all pairs"


def _batch_options() -> list[SourceOption]:
    batches = PairBatch.objects.annotate(n=Count("pairs")).order_by("-created_at", "-id")
    options = [SourceOption(str(b.pk), b.name, b.n) for b in batches]
    unbatched = PreferencePair.objects.filter(batch__isnull=True).count()
    if unbatched:
        options.append(SourceOption(NO_TOPIC, "(no batch recorded)", unbatched))
    return options


def _batch_select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
    if value == NO_TOPIC:
        return pairs.filter(batch__isnull=True)
    return pairs.filter(batch_id=value) if value.isdigit() else pairs.none()


def _topic_options() -> list[SourceOption]:
    rows = PreferencePair.objects.values("prompt__topic").annotate(n=Count("id")).order_by("prompt__topic")
    return [SourceOption(r["prompt__topic"] or NO_TOPIC, r["prompt__topic"] or "(no topic)", r["n"]) for r in rows]


def _topic_select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
    return pairs.filter(prompt__topic="" if value == NO_TOPIC else value)


def _kind_options() -> list[SourceOption]:
    counts = PreferencePair.objects.aggregate(
        shared=Count("id", filter=Q(persona__isnull=True)), specific=Count("id", filter=Q(persona__isnull=False))
    )
    return [
        SourceOption("shared", "Shared (shown to any persona)", counts["shared"]),
        SourceOption("specific", "Persona-specific (written for one persona)", counts["specific"]),
    ]


def _kind_select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
    if value == "shared":
        return pairs.filter(persona__isnull=True)
    if value == "specific":
        return pairs.filter(persona__isnull=False)
    return pairs.none()


def _split_options() -> list[SourceOption]:
    rows = dict(PreferencePair.objects.values_list("split").annotate(n=Count("id")))
    return [SourceOption(value, label, rows.get(value, 0)) for value, label in PairSplit.choices]


def _split_select(pairs: PreferencePairQuerySet, value: str) -> PreferencePairQuerySet:
    return pairs.filter(split=value)


pair_source_register(PairSource("batch", "Import batch", _batch_options, _batch_select))
pair_source_register(PairSource("topic", "Prompt topic", _topic_options, _topic_select))
pair_source_register(PairSource("kind", "Written for", _kind_options, _kind_select))
pair_source_register(PairSource("split", "Pair split", _split_options, _split_select))
# A generated preference dataset (benchmarks.datasets); with "Pair split" it is "a dataset and its split".
pair_source_register(
    PairSource(
        "dataset",
        "Generated dataset",
        lambda: [SourceOption(*row) for row in dataset_source_options()],
        dataset_source_select,
    )
)
