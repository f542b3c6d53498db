"""Human-human baseline: agreement between raters of the same persona, and each human against the judges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from annotation.reports.leave_one_out import ReferencePair
from annotation.reports.ratings import StudyRatings, decisive
from benchmarks.agreement import (
    encode_labels,
    fleiss_kappa_varying,
    item_counts,
    kappa_from_counts,
    krippendorff_alpha,
    landis_koch,
    pairwise_kappa,
)
from benchmarks.judging.models import DECISIVE, Order
from core.report_kit import num, table

OTHERS = "Others' majority (leave-one-out)"


class RaterPair(NamedTuple):
    """Two raters of one persona and their agreement: a tuple, not a row dict (9,516 pairs at paper scale); the
    ``human_pairs`` rows are made from them as they are written."""

    study_persona_id: int
    rater_a: int  # participant ids
    rater_b: int
    n: int
    kappa: float | None
    agreement: float | None


def _slot_matrix(ratings: StudyRatings) -> np.ndarray:
    """Raters x items with the j-th rater of each persona on row j: one row per rater position, not per person."""
    by_persona = ratings.humans_by_persona().values()
    depth = max((len(members) for members in by_persona), default=0)
    matrix = np.full((depth, len(ratings.items)), None, dtype=object)
    for members in by_persona:
        for j, member in enumerate(members):
            for i, label in ratings.humans[member].labels.items():
                matrix[j, i] = label
    return matrix


def human_tables(ratings: StudyRatings, pairs: list[ReferencePair]) -> dict[str, dict[str, Any]]:
    """``human_pairs`` (every pair of raters of one persona), ``human_baseline`` (multi-rater and pooled statistics)
    and ``human_vs_judges`` (each human against the others' majority and each judge, on that human's items);
    ``pairs`` from ``reference_pairs``."""
    rater_pairs, pooled = _human_pairs(ratings)
    return {
        "human_pairs": table(
            "Human-human: every pair of raters of the same persona",
            ["persona", "rater_a", "rater_b", "n", "ties", "kappa", "agreement"],
            _pair_rows(ratings, rater_pairs),
        ),
        "human_baseline": table(
            "Human-human baseline (headline: Krippendorff's alpha)",
            ["statistic", "headline", "value", "band", "n", "ties", "pairs", "what_it_is"],
            _baseline_rows(ratings, rater_pairs, pooled),
            "Humans against each other only. Which number is which is said beside it: Krippendorff's alpha is the "
            "headline because it takes every answer whatever the number of raters per persona.",
        ),
        "human_vs_judges": _human_vs_judges(ratings, pairs),
    }


def _human_pairs(ratings: StudyRatings) -> tuple[list[RaterPair], np.ndarray]:
    """Every pair of raters of the same persona, and their agreement counts pooled over every such pair."""
    rater_pairs: list[RaterPair] = []
    pooled = np.zeros((len(DECISIVE), len(DECISIVE)), dtype=np.int64)
    persona_items = ratings.items_by_persona()
    for study_persona_id, members in ratings.humans_by_persona().items():
        if len(members) < 2:
            continue
        items = persona_items.get(study_persona_id, [])
        ids = [ratings.humans[m].participant_id for m in members]
        labels = np.array([[ratings.humans[m].labels.get(i) for i in items] for m in members], dtype=object)
        result = pairwise_kappa(labels, raters=[f"participant {pk}" for pk in ids], categories=DECISIVE)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pooled += result.counts[a, b]
                kappa, agreement = num(result.kappa[a, b]), num(result.agreement[a, b])
                rater_pairs.append(RaterPair(study_persona_id, ids[a], ids[b], int(result.n[a, b]), kappa, agreement))
    return rater_pairs, pooled


def _pair_rows(ratings: StudyRatings, rater_pairs: list[RaterPair]) -> Iterator[dict[str, Any]]:
    for pair in rater_pairs:
        yield {
            "persona": ratings.persona_labels.get(pair.study_persona_id, str(pair.study_persona_id)),
            "rater_a": f"participant {pair.rater_a}",
            "rater_b": f"participant {pair.rater_b}",
            "n": pair.n,
            "ties": 0,  # individual humans always pick one answer
            "kappa": pair.kappa,
            "agreement": pair.agreement,
        }


def _baseline_rows(ratings: StudyRatings, rater_pairs: list[RaterPair], pooled: np.ndarray) -> list[dict[str, Any]]:
    """Krippendorff's alpha (the headline), Fleiss' kappa for varying raters, the pooled Cohen's kappa and
    agreement of same-persona pairs and the median per-pair kappa — each with what it is, in words."""
    pooled_kappa, pooled_agreement = (num(value) for value in kappa_from_counts(pooled))
    defined = [pair.kappa for pair in rater_pairs if pair.kappa is not None]
    median = float(np.median(defined)) if defined else None
    slots = _slot_matrix(ratings)
    counts = item_counts(encode_labels(slots, categories=DECISIVE)) if slots.size else np.zeros((0, 2), dtype=int)
    multi = int((counts.sum(axis=1) >= 2).sum())
    fleiss = num(fleiss_kappa_varying(counts))
    alpha = num(krippendorff_alpha(slots)) if slots.size else None
    pairs = len(rater_pairs)

    def row(statistic: str, value: float | None, n: int, what: str, ties: int = 0, headline: bool = False) -> dict:
        band = landis_koch(value) if statistic != "Raw agreement, pooled" else ""
        return {
            "statistic": statistic,
            "headline": "headline" if headline else "",
            "value": value,
            "band": band,
            "n": n,
            "ties": ties,
            "pairs": pairs,
            "what_it_is": what,
        }

    return [
        row(
            "Krippendorff's alpha (nominal)",
            alpha,
            multi,
            "The headline: chance-corrected agreement of all human answers at once, any number of raters per "
            "persona; n = questions with two or more answers (the others cannot show agreement).",
            headline=True,
        ),
        row(
            "Fleiss' kappa (varying raters per question)",
            fleiss,
            multi,
            "Fleiss' kappa in the form that accepts a different number of raters per question (Gwet 2014): no "
            "persona is dropped because it has fewer raters than another.",
        ),
        row(
            "Cohen's kappa, pooled over every pair of raters of the same persona",
            pooled_kappa,
            int(pooled.sum()),
            "One 2x2 table summing every same-persona pair of raters over their common questions, then one kappa.",
        ),
        row(
            "Raw agreement, pooled",
            pooled_agreement,
            int(pooled.sum()),
            "Share of agreeing answers in that pooled table (not chance-corrected).",
        ),
        row(
            "Median per-pair kappa",
            median,
            len(defined),
            "The typical pair of raters: the median of the per-pair kappas; ties = pairs whose kappa is undefined "
            "(left out of the median).",
            ties=pairs - len(defined),
        ),
    ]


def _human_vs_judges(ratings: StudyRatings, pairs: list[ReferencePair]) -> dict[str, Any]:
    """Each human against the majority of the OTHER raters of their persona and against each judge; the rows an
    iterator, made as they are written (two per rater at paper scale: 12,688)."""
    return table(
        "Each human against the majority of the other raters of their persona, and against each judge",
        ["participant", "persona", "rater_b", "n", "ties", "kappa", "agreement"],
        _human_vs_judges_rows(ratings, pairs),
        "Never against a majority that holds their own vote. ties: questions where the others had no majority "
        "(a tie, or no other rater), or where the judge abstained or was invalid (judges: question x order).",
    )


def _human_vs_judges_rows(ratings: StudyRatings, pairs: list[ReferencePair]) -> Iterator[dict[str, Any]]:
    references: dict[tuple[int, int], str | None] = {(p.participant_id, p.item): p.reference for p in pairs}
    for human in ratings.humans:
        items = sorted(human.labels)
        own = [human.labels[i] for i in items]
        others = [references.get((human.participant_id, i)) for i in items]
        comparisons = [(OTHERS, own, others)]
        for judge in ratings.judges:
            answers = [decisive(judge.orders[order][i]) for order in Order.values for i in items]
            comparisons.append((f"{judge.name} (both orders)", own * len(Order.values), answers))
        for name, mine, theirs in comparisons:
            result = pairwise_kappa(np.array([mine, theirs], dtype=object).reshape(2, -1), categories=DECISIVE)
            yield {
                "participant": human.participant_id,
                "persona": ratings.persona_labels.get(human.study_persona_id, ""),
                "rater_b": name,
                "n": int(result.n[0, 1]),
                "ties": sum(value is None for value in theirs),
                "kappa": num(result.kappa[0, 1]),
                "agreement": num(result.agreement[0, 1]),
            }
