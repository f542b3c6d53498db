"""The study report as JSON-ready data: the summary and every table (each with n and ties beside every statistic) and
figure input.

Undefined statistics are ``None`` in the data and "undefined" on the page, never 0. "Ties" next to a pairwise
statistic counts the items both raters had but where at least one gave no decisive label (a human tie or no majority,
a judge's abstain or invalid reply) — those items are left out of n, and the count says so.

Which comparison each table makes is said in its title and note:

- ``loo`` (the headline, ``leave_one_out``): every human and every judge against the same leave-one-out majorities
  of the other raters — like for like;
- ``judges`` / ``pairwise`` / ``persona_kappa`` / ``model_model`` / ``position_bias`` / ``confusion`` / ``coverage``
  (``judge_statistics``, the paper's comparison): each judge against the majority of all raters of the persona, and
  against each other;
- ``human_baseline`` / ``human_pairs`` / ``human_vs_judges`` (``humans``): humans against each other.

Intervals follow the report's bootstrap policy (``intervals``). Pure computation over ``StudyRatings``; no ORM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.reports.humans import human_tables
from annotation.reports.judge_statistics import judge_tables
from annotation.reports.leave_one_out import ReferencePair, loo_headline, pairs_table, reference_pairs
from annotation.reports.ratings import NO_MAJORITY, StudyRatings
from annotation.services.majority import MajorityStatus
from benchmarks.agreement import MIN_GROUPS_FOR_INTERVAL
from benchmarks.judging.models import Choice

REPORT_VERSION = 5  # 5: each table stored in its own row, a freshness key of aggregates


def _summary(ratings: StudyRatings) -> dict[str, Any]:
    """Counts beside the headline, and a sentence for every figure the study lacks raters for."""
    kinds = Counter(kind or "no votes" for kind in ratings.majority_kinds)
    raters = ratings.raters_per_persona()
    threshold = ratings.majority_threshold
    below, single = sum(0 < n < threshold for n in raters.values()), sum(n == 1 for n in raters.values())
    lacking = []
    if below:
        lacking.append(
            f"{below} of {len(raters)} personas have fewer counted raters than the majority needs ({threshold}): "
            'their questions show "no majority" (not a tie) and leave the judges\' comparison with the majority.'
        )
    if single:
        lacking.append(
            f"{single} personas have a single counted rater: no human-human agreement and no leave-one-out majority "
            "for them."
        )
    if len(raters) < MIN_GROUPS_FOR_INTERVAL:
        lacking.append(
            f"{len(raters)} personas: no confidence interval is shown (a bootstrap over personas needs at least "
            f"{MIN_GROUPS_FOR_INTERVAL})."
        )
    return {
        "majority_outcomes": {
            "majority": kinds[Choice.CHOSEN] + kinds[Choice.REJECTED],
            "tie": kinds[MajorityStatus.TIE],
            "no_majority": kinds[NO_MAJORITY],
            "no_votes": kinds["no votes"],
        },
        "personas": len(raters),
        "raters_per_persona": {"min": min(raters.values(), default=0), "max": max(raters.values(), default=0)},
        "lacking": lacking,
    }


def report_compute(*, ratings: StudyRatings, fingerprint: str = "") -> dict[str, Any]:
    """Every table and figure input of the study report (see the module docstring)."""
    data, tables = report_parts(ratings=ratings, fingerprint=fingerprint)
    return {**data, "tables": {name: {**table, "rows": list(table["rows"])} for name, table in tables}}


def report_parts(*, ratings: StudyRatings, fingerprint: str = "") -> tuple[dict[str, Any], Iterator[tuple[str, Any]]]:
    """The report without its tables (summary, the heatmaps' matrices), and its tables one at a time in report order,
    each made when the iterator reaches it (the long ``loo_pairs`` with its rows an iterator too): the report job
    writes each table before the next is made, so it never holds them all."""
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
        return {**base, "empty": True}, iter(())
    base["summary"].update(_summary(ratings))
    # One section per module, each building its own tables in one visit; the leave-one-out references are
    # shared by the headline and the human baseline, so they are found once. The judges' section is made first: the
    # heatmaps' matrices come with it.
    pairs = reference_pairs(ratings)
    judges, figures = judge_tables(ratings)
    return {**base, "empty": False, **figures}, _tables(ratings, pairs, judges)


def _tables(
    ratings: StudyRatings, pairs: list[ReferencePair], judges: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "loo", loo_headline(ratings, pairs)
    yield "loo_pairs", pairs_table(ratings, pairs)
    yield from judges.items()
    yield from human_tables(ratings, pairs).items()
