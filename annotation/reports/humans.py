"""Human-human baseline: agreement between raters of the same persona, and each human against the judges."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from annotation.reports.ratings import StudyRatings, decisive
from annotation.reports.tables import num, table
from benchmarks.agreement import (
    fleiss_kappa,
    kappa_from_counts,
    krippendorff_alpha,
    landis_koch,
    pairwise_kappa,
)
from benchmarks.models import DECISIVE


def _slot_matrix(ratings: StudyRatings) -> np.ndarray:
    """Raters x items with the j-th rater of each persona on row j: one row per rater position, not per person."""
    by_persona: dict[int, list[list[str | None]]] = defaultdict(list)
    for human in ratings.humans:
        by_persona[human.study_persona_id].append(human.labels)
    depth = max((len(rows) for rows in by_persona.values()), default=0)
    matrix = np.full((depth, len(ratings.items)), None, dtype=object)
    for rows in by_persona.values():
        for j, labels in enumerate(rows):
            for i, label in enumerate(labels):
                if label is not None:
                    matrix[j, i] = label
    return matrix


def human_tables(ratings: StudyRatings) -> dict[str, dict[str, Any]]:
    """``human_pairs`` (every pair of raters of one persona), ``human_baseline`` (pooled and multi-rater statistics)
    and ``human_vs_judges`` (each human against the human majority and each judge, on that human's items)."""
    pair_rows, pooled = _human_pairs(ratings)
    return {
        "human_pairs": table(
            "Human-human: every pair of raters of the same persona",
            ["persona", "rater_a", "rater_b", "n", "ties", "kappa", "agreement"],
            pair_rows,
        ),
        "human_baseline": table(
            "Human-human baseline",
            ["statistic", "value", "band", "n", "ties", "pairs"],
            _baseline_rows(ratings, pair_rows, pooled),
            "Median per-pair kappa: ties = pairs whose kappa is undefined (left out of the median).",
        ),
        "human_vs_judges": _human_vs_judges(ratings),
    }


def _human_pairs(ratings: StudyRatings) -> tuple[list[dict[str, Any]], np.ndarray]:
    """One row per pair of raters of the same persona, and their agreement counts pooled over every such pair."""
    rows: list[dict[str, Any]] = []
    pooled = np.zeros((len(DECISIVE), len(DECISIVE)), dtype=np.int64)
    by_persona: dict[int, list[int]] = defaultdict(list)
    for index, human in enumerate(ratings.humans):
        by_persona[human.study_persona_id].append(index)
    for study_persona_id, members in by_persona.items():
        if len(members) < 2:
            continue
        items = [i for i, item in enumerate(ratings.items) if item.study_persona_id == study_persona_id]
        names = [f"participant {ratings.humans[m].participant_id}" for m in members]
        labels = np.array([[ratings.humans[m].labels[i] for i in items] for m in members], dtype=object)
        result = pairwise_kappa(labels, raters=names, categories=DECISIVE)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pooled += result.counts[a, b]
                rows.append(
                    {
                        "persona": ratings.persona_labels.get(study_persona_id, str(study_persona_id)),
                        "rater_a": names[a],
                        "rater_b": names[b],
                        "n": int(result.n[a, b]),
                        "ties": 0,  # individual humans always pick one answer
                        "kappa": num(result.kappa[a, b]),
                        "agreement": num(result.agreement[a, b]),
                    }
                )
    return rows, pooled


def _baseline_rows(ratings: StudyRatings, pair_rows: list[dict[str, Any]], pooled: np.ndarray) -> list[dict[str, Any]]:
    """Pooled Cohen's kappa and agreement, the median per-pair kappa, Fleiss' kappa and Krippendorff's alpha."""
    pooled_kappa, pooled_agreement = (num(value) for value in kappa_from_counts(pooled))
    defined = [row["kappa"] for row in pair_rows if row["kappa"] is not None]
    median = float(np.median(defined)) if defined else None
    slots = _slot_matrix(ratings)
    complete = slots[:, (slots != None).all(axis=0)] if slots.size else slots  # noqa: E711
    fleiss = num(fleiss_kappa(complete, categories=DECISIVE)) if complete.size else None
    pairs = len(pair_rows)

    def row(statistic: str, value: float | None, band: str, n: int, ties: int = 0) -> dict[str, Any]:
        return {"statistic": statistic, "value": value, "band": band, "n": n, "ties": ties, "pairs": pairs}

    return [
        row(
            "Cohen's kappa, pooled over every pair of raters of the same persona",
            pooled_kappa,
            landis_koch(pooled_kappa),
            int(pooled.sum()),
        ),
        row("Raw agreement, pooled", pooled_agreement, "", int(pooled.sum())),
        # ties: pairs whose kappa is undefined
        row(
            "Median per-pair kappa",
            median,
            landis_koch(median) if defined else "undefined",
            len(defined),
            pairs - len(defined),
        ),
        row(
            "Fleiss' kappa (items every rater position answered)",
            fleiss,
            landis_koch(fleiss),
            int(complete.shape[1]) if complete.size else 0,
        ),
        row(
            "Krippendorff's alpha (nominal, all human answers)",
            num(krippendorff_alpha(slots)) if slots.size else None,
            "",
            int((slots != None).any(axis=0).sum()) if slots.size else 0,  # noqa: E711
        ),
    ]


def _human_vs_judges(ratings: StudyRatings) -> dict[str, Any]:
    others = [("Human majority", list(ratings.majority))]
    others += [(judge.name, [decisive(a) for a in judge.aggregated]) for judge in ratings.judges]
    rows = []
    for human in ratings.humans:
        items = [i for i, label in enumerate(human.labels) if label is not None]
        labels = np.array(
            [[human.labels[i] for i in items]] + [[values[i] for i in items] for _, values in others], dtype=object
        ).reshape(len(others) + 1, len(items))
        result = pairwise_kappa(labels, categories=DECISIVE)
        for b, (name, values) in enumerate(others, start=1):
            rows.append(
                {
                    "participant": human.participant_id,
                    "persona": ratings.persona_labels.get(human.study_persona_id, ""),
                    "rater_b": name,
                    "n": int(result.n[0, b]),
                    "ties": sum(values[i] is None for i in items),
                    "kappa": num(result.kappa[0, b]),
                    "agreement": num(result.agreement[0, b]),
                }
            )
    return table(
        "Each human against the human majority (which includes them) and each judge, on their questions",
        ["participant", "persona", "rater_b", "n", "ties", "kappa", "agreement"],
        rows,
    )
