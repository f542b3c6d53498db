"""The study report as JSON-ready data: tables (each with n and ties beside every statistic) and figure inputs.

Pure computation over ``StudyRatings`` with ``benchmarks.agreement``; no ORM. Undefined statistics are ``None`` in
the data and "undefined" on the page, never 0. "Ties" next to a pairwise statistic counts the items both raters
had but where at least one gave no decisive label (a human tie or no majority, a judge's abstain or invalid reply,
including a judge whose answer flipped with the A/B order) — those items are left out of n.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from annotation.reports.humans import human_tables
from annotation.reports.ratings import StudyRatings, decisive
from annotation.reports.tables import num, table
from annotation.services.majority import MajorityStatus
from benchmarks.agreement import (
    agreement_coverage,
    bootstrap_pairwise_kappa,
    landis_koch,
    pairwise_kappa,
    per_group_kappa,
    position_bias,
)
from benchmarks.models import DECISIVE, Choice, choice_for_letter

REPORT_VERSION = 2
MAJORITY = "Human majority"
BOOTSTRAP_RESAMPLES = 500
PAIR_COLUMNS = [
    "rater_a", "rater_b", "n", "ties", "kappa", "ci_low", "ci_high", "band", "agreement",
    "share_a_chosen", "share_b_chosen", "share_a_rejected", "share_b_rejected",
]  # fmt: skip


def _rater_rows(ratings: StudyRatings) -> list[tuple[str, str, list[str | None]]]:
    """(name, kind, per-item answer incl. tie/abstain/invalid) for the main matrix's raters."""
    rows = [(MAJORITY, "human majority", ratings.majority_or_tie)]
    for judge in ratings.judges:
        rows += [(f"{judge.name} · {order}", f"judge, order {order}", judge.orders[order]) for order in judge.orders]
        rows.append((judge.name, "judge, both orders", judge.aggregated))
    return rows


def _matrix(names: list[str], answers: list[list[str | None]], groups: list[int]) -> tuple[dict[str, Any], list]:
    """Pairwise kappa, n, ties and bootstrap intervals (resampling personas) for the given raters."""
    if not names:
        return {"raters": [], "kappa": [], "n": [], "ties": []}, []
    labels = np.array([[decisive(a) for a in row] for row in answers], dtype=object).reshape(len(names), -1)
    present = np.array([[a is not None for a in row] for row in answers], dtype=bool).reshape(len(names), -1)
    decided = labels != None  # noqa: E711  (element-wise on an object array)
    result = pairwise_kappa(labels, raters=names, categories=DECISIVE)
    ties = ((present[:, None, :] & present[None, :, :]) & ~(decided[:, None, :] & decided[None, :, :])).sum(axis=2)
    if labels.shape[1] and len(set(groups)) > 1:
        ci = bootstrap_pairwise_kappa(labels, groups, n_resamples=BOOTSTRAP_RESAMPLES, categories=DECISIVE)
        low, high = ci.low, ci.high
    else:
        low = high = np.full((len(names), len(names)), np.nan)
    records = []
    for row in result.records():
        a, b = names.index(row["rater_a"]), names.index(row["rater_b"])
        records.append(
            {
                **row,
                "ties": int(ties[a, b]),
                "band": landis_koch(row["kappa"]),
                "ci_low": num(low[a, b]),
                "ci_high": num(high[a, b]),
            }
        )
    matrix = {
        "raters": names,
        "kappa": [[num(v) for v in row] for row in result.kappa],
        "n": result.n.tolist(),
        "ties": ties.tolist(),
    }
    return matrix, records


def _raters_table(rows: list[tuple[str, str, list[str | None]]]) -> dict[str, Any]:
    out = []
    for name, kind, answers in rows:
        present = [a for a in answers if a is not None]
        decided = [a for a in present if a in DECISIVE]
        out.append(
            {
                "rater": name,
                "kind": kind,
                "items": len(present),
                "n_decisive": len(decided),
                "share_chosen": num(decided.count(Choice.CHOSEN) / len(decided)) if decided else None,
                "ties": sum(a in (MajorityStatus.TIE, Choice.ABSTAIN) for a in present),
                "invalid": sum(a == Choice.INVALID for a in present),
            }
        )
    columns = ["rater", "kind", "items", "n_decisive", "share_chosen", "ties", "invalid"]
    return table(
        "Raters: items rated, decisive labels, ties (human tie / judge abstain) and invalid replies", columns, out
    )


def _persona_kappa(ratings: StudyRatings) -> dict[str, Any]:
    groups = [item.study_persona_id for item in ratings.items]
    rows = []
    for judge in ratings.judges:
        result = per_group_kappa(
            np.array(ratings.majority, dtype=object),
            np.array([decisive(a) for a in judge.aggregated], dtype=object),
            groups,
            categories=DECISIVE,
        )
        for group, kappa, n, agreement in zip(result.groups, result.kappa, result.n, result.agreement, strict=True):
            in_group = [i for i, g in enumerate(groups) if g == group]
            ties = sum(
                ratings.majority_status[i] != MajorityStatus.NO_VOTES
                and judge.aggregated[i] is not None
                and (ratings.majority[i] is None or decisive(judge.aggregated[i]) is None)
                for i in in_group
            )
            rows.append(
                {
                    "judge": judge.name,
                    "persona": ratings.persona_labels.get(int(group), str(group)),
                    "n": int(n),
                    "ties": ties,
                    "kappa": num(kappa),
                    "agreement": num(agreement),
                }
            )
    columns = ["judge", "persona", "n", "ties", "kappa", "agreement"]
    return table(
        "Per-persona kappa: human majority vs each judge (both orders) over that persona's questions", columns, rows
    )


def _position_bias(ratings: StudyRatings) -> dict[str, Any]:
    rows = []
    for judge in ratings.judges:
        choices = np.array([choice for _, _, choice in judge.replies], dtype=object)
        first = np.array([choice_for_letter(letter="A", order=order) for _, order, _ in judge.replies], dtype=object)
        bias = position_bias(choices, first, options=DECISIVE)
        both = [(ab, ba) for ab, ba in judge.both_orders() if ab in DECISIVE and ba in DECISIVE]
        consistent = sum(ab == ba for ab, ba in both)
        rows.append(
            {
                "judge": judge.name,
                "share_first": num(bias.share_first[0]),
                "n_first": int(bias.n_first[0]),
                "n_decisive": int(bias.n_decisive[0]),
                "ties": int(bias.n_other[0]),
                "p_value": num(bias.p_value[0]),
                "n_both_orders": len(both),
                "order_consistent": num(consistent / len(both)) if both else None,
            }
        )
    columns = ["judge", "share_first", "n_first", "n_decisive", "ties", "p_value", "n_both_orders", "order_consistent"]
    note = (
        "share_first: how often a decisive reply picked the answer shown first (0.5 = no bias; p from an exact "
        "binomial test); ties: abstain and invalid replies; order_consistent: share of items decisive in both "
        "orders where the two orders agree."
    )
    return table("Position bias per judge (every reply, both orders)", columns, rows, note)


def _confusion(ratings: StudyRatings) -> dict[str, Any]:
    rows = []
    for judge in ratings.judges:
        for human in (*DECISIVE, MajorityStatus.TIE.value):
            row: dict[str, Any] = {"judge": judge.name, "human_majority": human}
            for answer in Choice.values:
                row[f"judge_{answer}"] = sum(
                    judged == answer and majority == human
                    for judged, majority in zip(judge.aggregated, ratings.majority_or_tie, strict=True)
                )
            rows.append(row)
    columns = ["judge", "human_majority", "judge_chosen", "judge_rejected", "judge_abstain", "judge_invalid"]
    return table(
        "Confusion: human majority (rows; tie = tie or no majority) vs each judge (both orders)", columns, rows
    )


def _coverage(ratings: StudyRatings) -> dict[str, Any]:
    rows = []
    for judge in ratings.judges:
        if not judge.has_confidence:
            continue
        curve = agreement_coverage(
            np.array([decisive(a) for a in judge.aggregated], dtype=object),
            np.array(ratings.majority, dtype=object),
            np.array([np.nan if c is None else c for c in judge.confidence], dtype=np.float64),
            categories=DECISIVE,
        )
        left_out = sum(
            status != MajorityStatus.NO_VOTES and answer is not None and (label is None or decisive(answer) is None)
            for status, answer, label in zip(ratings.majority_status, judge.aggregated, ratings.majority, strict=True)
        )
        for k in range(curve.n.size):
            rows.append(
                {
                    "judge": judge.name,
                    "min_confidence": num(curve.threshold[k]),
                    "coverage": num(curve.coverage[k]),
                    "n": int(curve.n[k]),
                    "ties": left_out,
                    "agreement": num(curve.agreement[k]),
                    "kappa": num(curve.kappa[k]),
                }
            )
    columns = ["judge", "min_confidence", "coverage", "n", "ties", "agreement", "kappa"]
    note = (
        "Items where both the judge (both orders) and the human majority are decisive, most confident first; "
        "ties: items left out because one of them was not."
    )
    return table("Agreement vs coverage (judges that give a confidence)", columns, rows, note)


def report_compute(*, ratings: StudyRatings, fingerprint: str = "") -> dict[str, Any]:
    """Every table and figure input of the study report (see the module docstring)."""
    base: dict[str, Any] = {
        "version": REPORT_VERSION,
        "study_id": ratings.study_id,
        "fingerprint": fingerprint,
        "summary": {
            "items": len(ratings.items),
            "completed_participants": ratings.completed_participants,
            "majority_threshold": ratings.majority_threshold,
            "judges": [judge.name for judge in ratings.judges],
        },
    }
    if not ratings.completed_participants:
        return {**base, "empty": True, "tables": {}}
    rows = _rater_rows(ratings)
    groups = [item.study_persona_id for item in ratings.items]
    matrix, records = _matrix([r[0] for r in rows], [r[2] for r in rows], groups)
    judge_rows = [r for r in rows if r[1] == "judge, both orders"]
    model_matrix, model_records = _matrix([r[0] for r in judge_rows], [r[2] for r in judge_rows], groups)
    pair_columns = PAIR_COLUMNS
    tables = {
        "raters": _raters_table(rows),
        "pairwise": table(
            "Cohen's kappa for every pair of raters (over the items both labelled; 95% CI resampling personas)",
            pair_columns,
            records,
        ),
        "persona_kappa": _persona_kappa(ratings),
        **human_tables(ratings),
        "model_model": table("Model-model agreement (each judge, both orders)", pair_columns, model_records),
        "position_bias": _position_bias(ratings),
        "confusion": _confusion(ratings),
        "coverage": _coverage(ratings),
    }
    return {**base, "empty": False, "matrix": matrix, "model_matrix": model_matrix, "tables": tables}
