"""Like-for-like comparisons: each counted human against the majority of the *other* counted raters of their persona
(leave-one-out), and each judge against exactly the same references.

A human compared with a majority that contains their own vote agrees with it partly by construction (in a 4-rater
study the pooled kappa of human vs majority was 0.692 with the human included and 0.222 without). Here:

- the reference of human h on item i is the majority of the other raters' votes on i, by the study's one majority
  rule (``majority_compute``) with a strict majority of those votes (2 of 3, 2 of 2, 1 of 1);
- the humans' figure pools the (h's label, reference) pairs over every human and item into one 2x2 table;
- a judge's figure pairs the judge's answer on i with the same references, for the same (human, item) pairs, in
  each A/B order: both orders are pooled, so an answer that flips with the order counts against the judge (it
  disagrees with the reference in one of the two orders) instead of leaving the figure;
- pairs whose reference is undefined (the others tie, or nobody else rated the persona) are left out of both
  figures alike and counted beside them.

Intervals resample personas (cluster bootstrap) by the report's policy (``annotation.reports.intervals``). Pure
computation over ``StudyRatings``; no ORM.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotation.reports.intervals import BOOTSTRAP_RESAMPLES, interval_columns
from annotation.reports.ratings import StudyRatings
from annotation.services.majority import majority_compute
from benchmarks.agreement import (
    MISSING,
    bootstrap_tables,
    kappa_from_counts,
    landis_koch,
    paired_tables,
)
from benchmarks.judging.models import DECISIVE, Order
from core.report_kit import num, table

HUMANS = "Humans"
NO_OTHERS = "no_others"  # nobody else rated the persona: no reference (not a tie)
PAIR_COLUMNS = [
    "persona",
    "participant",
    "question",
    "question_position",
    "human",
    "others_majority",
    "others_status",
    "n_others",
]
# The counts and what ``kappa_columns`` fills, in the order both agreement tables show them.
KAPPA_TABLE_COLUMNS = [
    "n",
    "ties",
    "kappa",
    "band",
    "agreement",
    "kappa_ab",
    "kappa_ba",
    "ci_low",
    "ci_high",
    "ci_resamples_defined",
    "ci_note",
]
LOO_COLUMNS = ["rater", "answers", *KAPPA_TABLE_COLUMNS]


@dataclass(frozen=True, slots=True)  # one per human answer (63,440 at paper scale): no __dict__ each
class ReferencePair:
    """One (human, item) pair of the comparison: the human's label and the others' majority on that item."""

    study_persona_id: int
    participant_id: int
    item: int  # index into ``StudyRatings.items``
    human: str
    reference: str | None  # None: no majority among the others (see status)
    status: str  # a MajorityStatus value, or "no_others"
    n_others: int  # how many other raters voted on the item


def reference_pairs(ratings: StudyRatings) -> list[ReferencePair]:
    """Every decisive human answer with the leave-one-out majority of the persona's other counted raters."""
    by_persona = ratings.humans_by_persona()
    persona_items = ratings.items_by_persona()  # a human answers only their persona's questions
    pairs = []
    for index, human in enumerate(ratings.humans):
        peers = [ratings.humans[j] for j in by_persona[human.study_persona_id] if j != index]
        for item in persona_items.get(human.study_persona_id, []):
            label = human.labels.get(item)
            if label not in DECISIVE:
                continue
            others = [other for peer in peers if (other := peer.labels.get(item)) in DECISIVE]
            if others:
                result = majority_compute(votes=others, threshold=len(others) // 2 + 1)
                reference, status = result.label or None, result.status.value
            else:
                reference, status = None, NO_OTHERS
            pairs.append(
                ReferencePair(human.study_persona_id, human.participant_id, item, label, reference, status, len(others))
            )
    return pairs


def label_codes(labels: list[str | None]) -> np.ndarray:
    """Codes of decisive labels (index into DECISIVE); anything else is MISSING."""
    lookup = {label: code for code, label in enumerate(DECISIVE)}
    return np.array([lookup.get(label, MISSING) if label is not None else MISSING for label in labels], dtype=np.intp)


@dataclass(frozen=True)
class Comparison:
    """One figure against the leave-one-out references: per-persona tables (groups x [orders x] 2 x 2)."""

    name: str
    tables: np.ndarray
    pairs: int  # (human, item) pairs the comparison is over
    unanswered: int  # of those, the rater gave no decisive answer (a judge's abstain/invalid, per order)


def comparisons(ratings: StudyRatings, pairs: list[ReferencePair]) -> list[Comparison]:
    """The humans' comparison and each judge's (both orders pooled, and per order), over the same pairs."""
    groups = np.array([p.study_persona_id for p in pairs], dtype=np.int64)
    reference = label_codes([p.reference for p in pairs])
    n = len(DECISIVE)
    humans, _ = paired_tables(label_codes([p.human for p in pairs]), reference, groups, n_categories=n)
    result = [Comparison(HUMANS, humans, len(pairs), 0)]
    for judge in ratings.judges:
        per_order = []
        unanswered = 0
        for order in Order.values:
            answers = [judge.orders[order][p.item] for p in pairs]
            unanswered += sum(answer not in DECISIVE for answer in answers)
            tables, _ = paired_tables(label_codes(answers), reference, groups, n_categories=n)
            per_order.append(tables)
        result.append(Comparison(judge.name, np.stack(per_order, axis=1), len(pairs), unanswered))
    return result


def pooled_kappa(summed: np.ndarray) -> np.ndarray:
    """Kappa of the summed tables; for a judge (resamples x orders x 2 x 2) both orders pooled into one table."""
    if summed.ndim == 4:
        summed = summed.sum(axis=1)
    return kappa_from_counts(summed)[0]


def kappa_columns(
    *, tables: np.ndarray, n_groups: int, kappa: float, agreement: float, order_kappa: Any
) -> dict[str, Any]:
    """The kappa columns both agreement tables show: kappa, band, each order's kappa, the persona-resampled interval."""
    interval = bootstrap_tables(tables, statistic=pooled_kappa, n_resamples=BOOTSTRAP_RESAMPLES)
    return {
        "kappa": num(kappa),
        "band": landis_koch(num(kappa)),
        "agreement": num(agreement),
        "kappa_ab": num(order_kappa[0]),
        "kappa_ba": num(order_kappa[1]),
        **interval_columns(interval, n_groups=n_groups),
    }


def loo_tables(ratings: StudyRatings, pairs: list[ReferencePair] | None = None) -> dict[str, dict[str, Any]]:
    """``loo`` (the headline: humans and each judge against the same leave-one-out majorities) and ``loo_pairs``
    (every (human, item) pair with its reference: the long table the headline is computed from); ``pairs`` from
    ``reference_pairs`` when the caller has them."""
    pairs = reference_pairs(ratings) if pairs is None else pairs
    long = pairs_table(ratings, pairs)
    return {"loo": loo_headline(ratings, pairs), "loo_pairs": {**long, "rows": list(long["rows"])}}


def loo_headline(ratings: StudyRatings, pairs: list[ReferencePair]) -> dict[str, Any]:
    """The ``loo`` table: humans and each judge against the same leave-one-out majorities."""
    undefined = sum(p.reference is None for p in pairs)
    no_others = sum(p.status == NO_OTHERS for p in pairs)
    rows = []
    for comparison in comparisons(ratings, pairs):
        pooled = comparison.tables.sum(axis=0)
        per_order = pooled if pooled.ndim == 3 else None
        kappa, agreement = kappa_from_counts(pooled if per_order is None else pooled.sum(axis=0))
        order_kappas = kappa_from_counts(per_order)[0] if per_order is not None else [np.nan, np.nan]
        rows.append(
            {
                "rater": comparison.name,
                "answers": "each human's own answer" if per_order is None else "the judge's answer in each A/B order",
                "n": int(pooled.sum()),
                "ties": undefined * (1 if per_order is None else 2) + comparison.unanswered,
                **kappa_columns(
                    tables=comparison.tables,
                    n_groups=comparison.tables.shape[0],
                    kappa=kappa,
                    agreement=agreement,
                    order_kappa=order_kappas,
                ),
            }
        )
    note = (
        f"Over {len(pairs)} (human, item) pairs: each human's answer, and each judge's answer in both A/B orders, "
        "against the majority of the OTHER raters of that persona (strict majority of their votes), so no one is "
        f"compared with a vote that contains their own. ties: pairs left out — {undefined} where the others had no "
        f"majority (a tie, or {no_others} with no other rater), counted once per order for judges, plus each "
        "judge's abstain and invalid answers. A judge whose pick flips with the order disagrees with the reference "
        "in one of the two orders: it lowers the kappa instead of leaving it. kappa_ab / kappa_ba: each order alone."
    )
    return table(
        "Headline, like for like: humans and judges against the same leave-one-out majorities", LOO_COLUMNS, rows, note
    )


def pairs_table(ratings: StudyRatings, pairs: list[ReferencePair]) -> dict[str, Any]:
    """The ``loo_pairs`` table with its rows as an iterator, each made when it is read: the report job writes them
    to the database one by one (63,440 row dicts held at once were the largest part of its memory)."""
    judge_columns = [f"{judge.name} · {order}" for judge in ratings.judges for order in Order.values]
    return table(
        "Every (human, item) pair of the headline with the other raters' majority and each judge's answers",
        [*PAIR_COLUMNS, *judge_columns],
        _pairs_rows(ratings, pairs),
        "The long table the headline is computed from (download it to recompute the kappas).",
    )


def _pairs_rows(ratings: StudyRatings, pairs: list[ReferencePair]) -> Iterator[dict[str, Any]]:
    for p in pairs:
        row: dict[str, Any] = {
            "persona": ratings.persona_labels.get(p.study_persona_id, str(p.study_persona_id)),
            "participant": p.participant_id,
            "question": ratings.items[p.item].question_id,
            "question_position": ratings.items[p.item].position,
            "human": p.human,
            "others_majority": p.reference or "",
            "others_status": p.status,
            "n_others": p.n_others,
        }
        for judge in ratings.judges:
            for order in Order.values:
                row[f"{judge.name} · {order}"] = judge.orders[order][p.item] or ""
        yield row
