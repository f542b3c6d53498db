"""Verification: the dataset's verifier judge role-plays each persona on its pairs (both A/B orders).

A pair is verified when the judge picked y_w in more of its decisive replies than y_l, failed otherwise; with no
decisive reply it stays unchecked (``pair_verdict`` is the one rule). Verifying every pair or a seeded sample.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import DatasetError
from benchmarks.judging.models import Choice
from benchmarks.judging.services import judgments_run
from benchmarks.pairs.models import PreferencePair, VerificationVerdict
from core.jobs import JobRun
from core.llm.runner import chunked
from personas.attributes import ATTRIBUTE_BY_KEY


def pair_verdict(*, chosen: int, rejected: int) -> str:
    """The pair's verdict from the verifier's decisive picks (y_w = chosen, y_l = rejected)."""
    if chosen == rejected == 0:
        return VerificationVerdict.UNCHECKED
    return VerificationVerdict.VERIFIED if chosen > rejected else VerificationVerdict.FAILED


def verification_pairs(
    dataset: PreferenceDataset, *, span: tuple[int, int] | None = None
) -> tuple[Iterator[tuple[int, int]], int]:
    """(persona, pair) to verify, read from the database a chunk at a time, and how many: every pair of the
    dataset, or ``verify_sample`` of them drawn with its seed (the draw reads the pair ids only); with ``span``,
    those of the personas whose ids fall in that inclusive range (a shard's part of the same draw)."""
    pairs = dataset.pairs.order_by("pk")
    count = pairs.count()
    if dataset.verify_sample is None or dataset.verify_sample >= count:
        if span is not None:
            pairs = pairs.filter(persona_id__gte=span[0], persona_id__lte=span[1])
            count = pairs.count()
        return _keyset(pairs), count
    ids = list(pairs.values_list("pk", flat=True))
    picked = sorted(random.Random(f"{dataset.seed}:verify").sample(ids, dataset.verify_sample))
    del ids
    if span is not None:
        picked = [
            pk
            for chunk in chunked(picked, _CHUNK)
            for pk in pairs.filter(pk__in=chunk, persona_id__gte=span[0], persona_id__lte=span[1]).values_list(
                "pk", flat=True
            )
        ]

    def sampled() -> Iterator[tuple[int, int]]:
        for chunk in chunked(picked, _CHUNK):
            yield from pairs.filter(pk__in=chunk).values_list("persona_id", "pk")

    return sampled(), len(picked)


_CHUNK = 2000


def _keyset(pairs: QuerySet[PreferencePair]) -> Iterator[tuple[int, int]]:
    """(persona, pair) in pair order, a page at a time by primary key: no cursor stays open while the run writes."""
    last = 0
    while page := list(pairs.filter(pk__gt=last).values_list("persona_id", "pk")[:_CHUNK]):
        yield from page
        last = page[-1][1]


def verification_require(dataset: PreferenceDataset) -> int:
    """How many pairs verification judges; refused without a verifier or pairs."""
    if dataset.verifier is None:
        raise DatasetError("Choose a verifier judge for this dataset first.")
    _, count = verification_pairs(dataset)
    if not count:
        raise DatasetError("The dataset has no pairs to verify yet.")
    return count


def verification_prepare(*, dataset: PreferenceDataset, job: JobRun) -> None:
    """The verification job's total, for the whole dataset, when its shards do the judging."""
    assert dataset.verifier is not None
    job.set_total(2 * dataset.verifier.samples * verification_require(dataset), already_done=0)


def dataset_verify(
    *, dataset: PreferenceDataset, job: JobRun | None = None, span: tuple[int, int] | None = None
) -> int:
    """Judge the pairs in both orders and write each pair's verdict; returns how many pairs got one.

    Pairs stream in chunks from the database to the runner and verdicts are written a chunk of pairs at a time,
    so memory stays flat in the size of the dataset. ``span`` limits it to the pairs of a range of persona ids.
    """
    verification_require(dataset)
    assert dataset.verifier is not None
    items, count = verification_pairs(dataset, span=span)
    if not count:
        return 0
    judgments_run(judge=dataset.verifier, items=items, job=job, count=count)
    verdicts = 0
    items, _ = verification_pairs(dataset, span=span)
    for chunk in chunked((pair for _, pair in items), _CHUNK):
        verdicts += dataset_verification_apply(dataset=dataset, pair_ids=chunk)
    return verdicts


def dataset_verification_apply(*, dataset: PreferenceDataset, pair_ids: list[int]) -> int:
    """Write ``PreferencePair.verification`` from the verifier's stored judgments."""
    judge = dataset.verifier
    counts = (
        judge.judgments.filter(pair_id__in=pair_ids)
        .values("pair_id")
        .annotate(
            chosen=Count("pk", filter=Q(choice=Choice.CHOSEN)),
            rejected=Count("pk", filter=Q(choice=Choice.REJECTED)),
        )
    )
    by_verdict: dict[str, list[int]] = defaultdict(list)
    for row in counts:
        by_verdict[pair_verdict(chosen=row["chosen"], rejected=row["rejected"])].append(row["pair_id"])
    with transaction.atomic():
        for verdict, ids in by_verdict.items():
            for start in range(0, len(ids), 5000):
                PreferencePair.objects.filter(pk__in=ids[start : start + 5000]).update(verification=verdict)
    return sum(len(ids) for verdict, ids in by_verdict.items() if verdict != VerificationVerdict.UNCHECKED)


@dataclass(frozen=True)
class WinRate:
    label: str
    verified: int
    failed: int

    @property
    def checked(self) -> int:
        return self.verified + self.failed

    @property
    def rate(self) -> float | None:
        """Share of checked pairs where y_w won (None when none was checked)."""
        return self.verified / self.checked if self.checked else None


def _rates(rows: dict[str, dict[str, int]]) -> list[WinRate]:
    rates = [
        WinRate(label, c[VerificationVerdict.VERIFIED], c[VerificationVerdict.FAILED]) for label, c in rows.items()
    ]
    return sorted((r for r in rates if r.checked), key=lambda r: (-r.checked, r.label))


def dataset_win_rates(*, dataset: PreferenceDataset, attribute: str = "sex") -> dict[str, object]:
    """How often y_w wins: overall, by topic and by the values of one persona attribute (counted in the database)."""
    checked = dataset.pairs.exclude(verification=VerificationVerdict.UNCHECKED)
    key = attribute if attribute in ATTRIBUTE_BY_KEY else "sex"
    overall: dict[str, int] = defaultdict(int)
    by_topic: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for topic, verdict, n in checked.values_list("prompt__topic", "verification").annotate(n=Count("pk")):
        overall[verdict] += n
        by_topic[topic or "(no topic)"][verdict] += n
    by_value: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = checked.annotate(value=KeyTextTransform(key, "persona__attributes")).values_list("value", "verification")
    for value, verdict, n in rows.annotate(n=Count("pk")):
        by_value[str(value) if value not in (None, "") else "(not applicable)"][verdict] += n
    return {
        "overall": WinRate("all pairs", overall[VerificationVerdict.VERIFIED], overall[VerificationVerdict.FAILED]),
        "by_topic": _rates(by_topic),
        "attribute": key,
        "by_attribute": _rates(by_value),
    }


def dataset_losers(*, dataset: PreferenceDataset, limit: int = 20) -> list[PreferencePair]:
    """Pairs where the verifier preferred y_l, to read side by side."""
    return list(
        dataset.pairs.filter(verification=VerificationVerdict.FAILED)
        .select_related("prompt", "persona")
        .order_by("pk")[:limit]
    )
