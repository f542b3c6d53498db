"""Human-human baseline: agreement between raters of the same persona, and each human against the judges."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from annotation.reports.ratings import StudyRatings, decisive
from benchmarks.agreement import (
    fleiss_kappa,
    kappa_from_counts,
    krippendorff_alpha,
    landis_koch,
    pairwise_kappa,
)

LABELS = ("chosen", "rejected")


def _num(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


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
    pair_rows: list[dict[str, Any]] = []
    pooled = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    pooled_ties = 0
    by_persona: dict[int, list[int]] = defaultdict(list)
    for index, human in enumerate(ratings.humans):
        by_persona[human.study_persona_id].append(index)
    for study_persona_id, members in by_persona.items():
        if len(members) < 2:
            continue
        items = [i for i, item in enumerate(ratings.items) if item.study_persona_id == study_persona_id]
        names = [f"participant {ratings.humans[m].participant_id}" for m in members]
        labels = np.array([[ratings.humans[m].labels[i] for i in items] for m in members], dtype=object)
        result = pairwise_kappa(labels, raters=names, categories=LABELS)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pooled += result.counts[a, b]
                pair_rows.append(
                    {
                        "persona": ratings.persona_labels.get(study_persona_id, str(study_persona_id)),
                        "rater_a": names[a],
                        "rater_b": names[b],
                        "n": int(result.n[a, b]),
                        "ties": 0,  # individual humans always pick one answer
                        "kappa": _num(result.kappa[a, b]),
                        "agreement": _num(result.agreement[a, b]),
                    }
                )
    pooled_kappa, pooled_agreement = kappa_from_counts(pooled)
    defined = [row["kappa"] for row in pair_rows if row["kappa"] is not None]
    slots = _slot_matrix(ratings)
    complete = slots[:, (slots != None).all(axis=0)] if slots.size else slots  # noqa: E711
    baseline = [
        {
            "statistic": "Cohen's kappa, pooled over every pair of raters of the same persona",
            "value": _num(pooled_kappa),
            "band": landis_koch(_num(pooled_kappa)),
            "n": int(pooled.sum()),
            "ties": pooled_ties,
            "pairs": len(pair_rows),
        },
        {
            "statistic": "Raw agreement, pooled",
            "value": _num(pooled_agreement),
            "band": "",
            "n": int(pooled.sum()),
            "ties": pooled_ties,
            "pairs": len(pair_rows),
        },
        {
            "statistic": "Median per-pair kappa",
            "value": float(np.median(defined)) if defined else None,
            "band": landis_koch(float(np.median(defined))) if defined else "undefined",
            "n": len(defined),
            "ties": len(pair_rows) - len(defined),  # pairs whose kappa is undefined
            "pairs": len(pair_rows),
        },
        {
            "statistic": "Fleiss' kappa (items every rater position answered)",
            "value": _num(fleiss_kappa(complete, categories=LABELS)) if complete.size else None,
            "band": landis_koch(_num(fleiss_kappa(complete, categories=LABELS))) if complete.size else "undefined",
            "n": int(complete.shape[1]) if complete.size else 0,
            "ties": 0,
            "pairs": len(pair_rows),
        },
        {
            "statistic": "Krippendorff's alpha (nominal, all human answers)",
            "value": _num(krippendorff_alpha(slots)) if slots.size else None,
            "band": "",
            "n": int((slots != None).any(axis=0).sum()) if slots.size else 0,  # noqa: E711
            "ties": 0,
            "pairs": len(pair_rows),
        },
    ]
    return {
        "human_pairs": {
            "title": "Human-human: every pair of raters of the same persona",
            "columns": ["persona", "rater_a", "rater_b", "n", "ties", "kappa", "agreement"],
            "rows": pair_rows,
            "note": "",
        },
        "human_baseline": {
            "title": "Human-human baseline",
            "columns": ["statistic", "value", "band", "n", "ties", "pairs"],
            "rows": baseline,
            "note": "Median per-pair kappa: ties = pairs whose kappa is undefined (left out of the median).",
        },
        "human_vs_judges": _human_vs_judges(ratings),
    }


def _human_vs_judges(ratings: StudyRatings) -> dict[str, Any]:
    others = [("Human majority", list(ratings.majority))]
    others += [(judge.name, [decisive(a) for a in judge.aggregated]) for judge in ratings.judges]
    rows = []
    for human in ratings.humans:
        items = [i for i, label in enumerate(human.labels) if label is not None]
        labels = np.array(
            [[human.labels[i] for i in items]] + [[values[i] for i in items] for _, values in others], dtype=object
        ).reshape(len(others) + 1, len(items))
        result = pairwise_kappa(labels, categories=LABELS)
        for b, (name, values) in enumerate(others, start=1):
            rows.append(
                {
                    "participant": human.participant_id,
                    "persona": ratings.persona_labels.get(human.study_persona_id, ""),
                    "rater_b": name,
                    "n": int(result.n[0, b]),
                    "ties": sum(values[i] is None for i in items),
                    "kappa": _num(result.kappa[0, b]),
                    "agreement": _num(result.agreement[0, b]),
                }
            )
    return {
        "title": "Each human against the human majority (which includes them) and each judge, on their questions",
        "columns": ["participant", "persona", "rater_b", "n", "ties", "kappa", "agreement"],
        "rows": rows,
        "note": "",
    }
