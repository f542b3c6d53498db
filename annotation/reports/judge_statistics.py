"""Judges against the majority of all raters of the persona (the paper's comparison) and against each other.

The majority is the study's (its threshold, e.g. 3 of 4) and holds every rater's vote, so no human is scored against it
here (``leave_one_out`` compares humans and judges like for like). A judge's answers in both A/B orders are pooled: an
answer that flips with the order counts as a disagreement in one order instead of leaving the figure; order
consistency is its own column. Pure computation over ``StudyRatings``; no ORM.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from annotation.reports.intervals import BOOTSTRAP_RESAMPLES, interval_columns
from annotation.reports.leave_one_out import KAPPA_TABLE_COLUMNS, kappa_columns, label_codes
from annotation.reports.ratings import NO_MAJORITY, StudyRatings, decisive
from annotation.services.majority import MajorityStatus
from benchmarks.agreement import (
    ConfidenceInterval,
    agreement_coverage,
    bootstrap_pairwise_kappa,
    kappa_from_counts,
    landis_koch,
    order_consistency,
    paired_tables,
    pairwise_kappa,
    position_bias_by_item,
)
from benchmarks.judging.models import DECISIVE, Choice, Order, choice_for_letter
from core.report_kit import num, table

MAJORITY = "Human majority"
PAIR_COLUMNS = [
    "rater_a",
    "rater_b",
    "n",
    "ties",
    "kappa",
    "ci_low",
    "ci_high",
    "ci_resamples_defined",
    "ci_note",
    "band",
    "agreement",
    "share_a_chosen",
    "share_b_chosen",
    "share_a_rejected",
    "share_b_rejected",
]


def _rater_rows(ratings: StudyRatings) -> list[tuple[str, str, list[str | None]]]:
    """(name, kind, per-item answer incl. tie/abstain/invalid) for the main matrix's raters."""
    rows = [(MAJORITY, "human majority", ratings.majority_shown)]
    for judge in ratings.judges:
        rows += [(f"{judge.name} · {order}", f"judge, order {order}", judge.orders[order]) for order in judge.orders]
    return rows


def _pairwise(names: list[str], answers: list[list[str | None]], groups: list[int]) -> tuple[dict[str, Any], list]:
    """Pairwise kappa, n, ties and bootstrap intervals (resampling personas) for the given raters."""
    if not names:
        return {"raters": [], "kappa": [], "n": [], "ties": []}, []
    labels = np.array([[decisive(a) for a in row] for row in answers], dtype=object).reshape(len(names), -1)
    present = np.array([[a is not None for a in row] for row in answers], dtype=bool).reshape(len(names), -1)
    decided = labels != None  # noqa: E711  (element-wise on an object array)
    result = pairwise_kappa(labels, raters=names, categories=DECISIVE)
    ties = ((present[:, None, :] & present[None, :, :]) & ~(decided[:, None, :] & decided[None, :, :])).sum(axis=2)
    n_groups = len(set(groups))
    if labels.shape[1]:
        ci = bootstrap_pairwise_kappa(labels, groups, n_resamples=BOOTSTRAP_RESAMPLES, categories=DECISIVE)
    else:
        nan = np.full((len(names), len(names)), np.nan)
        ci = ConfidenceInterval(nan, nan, nan, 0.95, 0, np.zeros((len(names), len(names)), dtype=int))
    records = []
    for row in result.records():
        a, b = names.index(row["rater_a"]), names.index(row["rater_b"])
        cell = ConfidenceInterval(
            ci.estimate[a, b], ci.low[a, b], ci.high[a, b], ci.confidence, ci.n_resamples, ci.n_valid[a, b]
        )
        records.append(
            {
                **row,
                "ties": int(ties[a, b]),
                "band": landis_koch(row["kappa"]),
                **interval_columns(cell, n_groups=n_groups),
            }
        )
    matrix = {
        "raters": names,
        "kappa": [[num(v) for v in row] for row in result.kappa],
        "n": result.n.tolist(),
        "ties": ties.tolist(),
    }
    return matrix, records


def majority_pairwise(ratings: StudyRatings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kappa matrix of the majority of all raters and each judge in each A/B order, and its ``pairwise`` table."""
    rows = _rater_rows(ratings)
    groups = [item.study_persona_id for item in ratings.items]
    matrix, records = _pairwise([r[0] for r in rows], [r[2] for r in rows], groups)
    return matrix, table(
        "Cohen's kappa for every pair: the majority of all raters and each judge in each A/B order",
        PAIR_COLUMNS,
        records,
        "The paper's comparison, order by order, over the questions both labelled (95% intervals resample "
        "personas). The majority holds every rater's vote, so no human is scored against it; see the headline "
        "for humans and judges like for like.",
    )


def judge_pairwise(ratings: StudyRatings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kappa matrix of every pair of judges, and its ``model_model`` table."""
    # Judge against judge over (question, order): both see the same presentation in the same order.
    groups = [item.study_persona_id for item in ratings.items] * len(Order.values)
    stacked = [(j.name, [a for order in Order.values for a in j.orders[order]]) for j in ratings.judges]
    matrix, records = _pairwise([n for n, _ in stacked], [a for _, a in stacked], groups)
    return matrix, table(
        "Model-model agreement: every pair of judges over each question in each A/B order",
        PAIR_COLUMNS,
        records,
        "n counts question x order pairs both judges answered decisively.",
    )


def raters_table(ratings: StudyRatings) -> dict[str, Any]:
    """Per rater of the majority matrix: items rated, decisive labels, and why the others are not."""
    out = []
    for name, kind, answers in _rater_rows(ratings):
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
                "no_majority": sum(str(a).startswith(NO_MAJORITY) for a in present),
                "invalid": sum(a == Choice.INVALID for a in present),
            }
        )
    columns = ["rater", "kind", "items", "n_decisive", "share_chosen", "ties", "no_majority", "invalid"]
    return table(
        "Raters: items rated, decisive labels, ties (human tie / judge abstain), no majority and invalid replies",
        columns,
        out,
        "no_majority: questions whose raters did not reach the study's threshold without a tie — mostly too few "
        'raters ("no majority: 1 rater"), which is not a tie.',
    )


def majority_counts(ratings: StudyRatings) -> dict[str, np.ndarray]:
    """Per judge: its answers in each order against the majority of all raters, per persona (G x orders x 2 x 2)."""
    groups = np.array([item.study_persona_id for item in ratings.items], dtype=np.int64)
    majority = label_codes(ratings.majority)
    result = {}
    for judge in ratings.judges:
        per_order = [
            paired_tables(label_codes(judge.orders[order]), majority, groups, n_categories=len(DECISIVE))[0]
            for order in Order.values
        ]
        result[judge.name] = np.stack(per_order, axis=1)
    return result


def judges_table(ratings: StudyRatings, counts: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each judge against the majority of all raters (both orders pooled, and each alone), with order consistency;
    ``counts`` from ``majority_counts``."""
    rows = []
    n_groups = len({item.study_persona_id for item in ratings.items})
    decided_majority = sum(label is not None for label in ratings.majority)
    for judge in ratings.judges:
        judge_counts = counts[judge.name]
        per_order = judge_counts.sum(axis=0)
        kappa, agreement = kappa_from_counts(per_order.sum(axis=0))
        order_kappa = kappa_from_counts(per_order)[0]
        consistency = order_consistency(
            judge.orders[Order.CHOSEN_FIRST], judge.orders[Order.REJECTED_FIRST], options=DECISIVE
        )
        rows.append(
            {
                "judge": judge.name,
                "n": int(per_order.sum()),
                "ties": 2 * len(ratings.items) - int(per_order.sum()),
                **kappa_columns(
                    tables=judge_counts, n_groups=n_groups, kappa=kappa, agreement=agreement, order_kappa=order_kappa
                ),
                "order_consistent": num(consistency.share),
                "consistent": consistency.consistent,
                "n_both_orders": consistency.n,
            }
        )
    columns = ["judge", *KAPPA_TABLE_COLUMNS, "order_consistent", "consistent", "n_both_orders"]
    note = (
        "The paper's comparison: each judge against the majority of ALL raters of the persona "
        f"({ratings.majority_threshold} votes needed; {decided_majority} of {len(ratings.items)} questions have "
        "one). kappa pools the judge's answers in both A/B orders over every question (n counts question x order): "
        "an answer that flips with the order disagrees with the majority in one of them, so it lowers kappa "
        "instead of leaving it; kappa_ab / kappa_ba are each order alone. ties: question x order pairs left out "
        "(no majority, or the judge abstained or was invalid in that order). order_consistent: share of the "
        "n_both_orders questions answered in both orders where both orders gave the same decisive label."
    )
    return table(
        "Judges against the human majority (the paper's comparison), with order consistency", columns, rows, note
    )


def persona_kappa_table(ratings: StudyRatings, counts: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per judge and persona: kappa against the majority of all raters, both orders pooled."""
    items_per_persona = Counter(item.study_persona_id for item in ratings.items)
    persona_ids = sorted(items_per_persona)
    rows = []
    for judge in ratings.judges:
        pooled = counts[judge.name].sum(axis=1)  # G x 2 x 2, both orders
        kappa, agreement = kappa_from_counts(pooled)
        for g, persona_id in enumerate(persona_ids):
            n = int(pooled[g].sum())
            rows.append(
                {
                    "judge": judge.name,
                    "persona": ratings.persona_labels.get(persona_id, str(persona_id)),
                    "n": n,
                    "ties": 2 * items_per_persona[persona_id] - n,
                    "kappa": num(kappa[g]),
                    "agreement": num(agreement[g]),
                }
            )
    columns = ["judge", "persona", "n", "ties", "kappa", "agreement"]
    return table(
        "Per-persona kappa: each judge (both orders pooled) against the majority of all raters of that persona",
        columns,
        rows,
        "n counts question x order pairs where both are decisive; ties the others.",
    )


def position_bias_table(ratings: StudyRatings) -> dict[str, Any]:
    """Per judge: whether it favours the answer shown first, one observation per question."""
    rows = []
    for judge in ratings.judges:
        items = np.array([item for item, _, _ in judge.replies], dtype=np.int64)
        choices = np.array([choice for _, _, choice in judge.replies], dtype=object)
        first = np.array([choice_for_letter(letter="A", order=order) for _, order, _ in judge.replies], dtype=object)
        bias = position_bias_by_item(choices, first, items, options=DECISIVE)
        rows.append(
            {
                "judge": judge.name,
                "share_first": num(bias.share_first),
                "mean_item_share": num(bias.mean_item_share),
                "n_items": bias.n_items,
                "favour_first": bias.favour_first,
                "favour_second": bias.favour_second,
                "balanced": bias.balanced,
                "p_value": num(bias.p_value),
                "n_replies": bias.n_replies,
                "ties": bias.n_other,
            }
        )
    columns = [
        "judge",
        "share_first",
        "mean_item_share",
        "n_items",
        "favour_first",
        "favour_second",
        "balanced",
        "p_value",
        "n_replies",
        "ties",
    ]
    note = (
        "Tested per question, not per reply: the samples and both orders of one question are not independent. A "
        "question favours the first-shown answer when more than half of its decisive replies picked it, the second "
        "when fewer did, and is balanced at exactly half (an order-consistent judge is balanced on every question "
        "judged in both orders); p is the exact two-sided sign test of favour_first vs favour_second. share_first "
        "(over all decisive replies, 0.5 = no bias) and mean_item_share describe the size; ties: abstain and "
        "invalid replies."
    )
    return table("Position bias per judge (one observation per question)", columns, rows, note)


def confusion_table(ratings: StudyRatings) -> dict[str, Any]:
    """The majority's outcome (rows) against each judge's answer over both orders."""
    rows = []
    kinds = ratings.majority_kinds
    for judge in ratings.judges:
        for human in (*DECISIVE, MajorityStatus.TIE.value, NO_MAJORITY):
            row: dict[str, Any] = {"judge": judge.name, "human_majority": human}
            for answer in Choice.values:
                row[f"judge_{answer}"] = sum(
                    judged == answer and kind == human for judged, kind in zip(judge.aggregated, kinds, strict=True)
                )
            rows.append(row)
    columns = ["judge", "human_majority", "judge_chosen", "judge_rejected", "judge_abstain", "judge_invalid"]
    return table(
        "Confusion: majority of all raters (rows) vs each judge's answer over both orders",
        columns,
        rows,
        "judge_abstain includes every question whose answer flipped with the A/B order; no majority: the raters "
        "did not reach the threshold (e.g. a persona with one rater) — not a tie.",
    )


def coverage_table(ratings: StudyRatings) -> dict[str, Any]:
    """Agreement with the majority against coverage, most confident answers first (judges that give a confidence)."""
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
        "The judge's answer over both orders (the label both orders agree on) against the majority of all raters, "
        "most confident first, on items where both are decisive; ties: items left out because one of them was not "
        "(including every item whose answer flipped with the A/B order)."
    )
    return table("Agreement vs coverage (judges that give a confidence; order-consistent answers)", columns, rows, note)


def judge_tables(ratings: StudyRatings) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """This module's section of the report in one visit: its tables (``judges``, ``raters``, ``pairwise``,
    ``persona_kappa``, ``model_model``, ``position_bias``, ``confusion``, ``coverage``) and the kappa matrices the
    heatmaps draw (``matrix``, ``model_matrix``)."""
    matrix, pairwise = majority_pairwise(ratings)
    model_matrix, model_model = judge_pairwise(ratings)
    counts = majority_counts(ratings)
    tables = {
        "judges": judges_table(ratings, counts),
        "raters": raters_table(ratings),
        "pairwise": pairwise,
        "persona_kappa": persona_kappa_table(ratings, counts),
        "model_model": model_model,
        "position_bias": position_bias_table(ratings),
        "confusion": confusion_table(ratings),
        "coverage": coverage_table(ratings),
    }
    return tables, {"matrix": matrix, "model_matrix": model_matrix}
