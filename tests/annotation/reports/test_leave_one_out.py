"""Leave-one-out references on synthetic ratings: every reference is the strict majority of the OTHER raters of the
persona (checked by brute force), and an inclusive majority flatters humans where the leave-one-out one does not."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotation.reports.leave_one_out import NO_OTHERS, loo_tables, reference_pairs
from annotation.reports.ratings import HumanRater, JudgeRatings, StudyRatings
from annotation.selectors import StudyItem

C, R = "chosen", "rejected"


def _ratings(rng: np.random.Generator, raters: list[int], items_per_persona: int, agree: float) -> StudyRatings:
    items, humans = [], []
    for persona, k in enumerate(raters, start=1):
        first = len(items)
        items += [StudyItem(100 * persona + q, persona, persona, q, persona, q) for q in range(items_per_persona)]
        truth = rng.choice([C, R], size=items_per_persona)
        for j in range(k):
            picks = [t if rng.random() < agree else rng.choice([C, R]) for t in truth]
            labels = {first + q: str(p) for q, p in enumerate(picks)}
            humans.append(HumanRater(1000 * persona + j, persona, labels))
    judge = JudgeRatings(1, "coin")
    judge.orders = {o: [str(rng.choice([C, R])) for _ in items] for o in ("AB", "BA")}
    judge.aggregated = [a if a == b else "abstain" for a, b in zip(judge.orders["AB"], judge.orders["BA"], strict=True)]
    judge.confidence = [None] * len(items)
    return StudyRatings(
        study_id=1,
        majority_threshold=2,
        items=items,
        persona_labels={p: f"P{p}" for p in range(1, len(raters) + 1)},
        majority=[None] * len(items),
        majority_status=["no_votes"] * len(items),
        majority_outcome=["no votes"] * len(items),
        votes=[(0, 0)] * len(items),
        humans=humans,
        judges=[judge],
    )


def test_every_reference_is_the_strict_majority_of_the_others() -> None:
    ratings = _ratings(np.random.default_rng(4), [1, 2, 3, 4, 5], 6, agree=0.6)
    pairs = reference_pairs(ratings)
    assert len(pairs) == sum(len(h.labels) for h in ratings.humans)
    for pair in pairs:
        others = [
            h.labels[pair.item]
            for h in ratings.humans
            if h.study_persona_id == pair.study_persona_id and h.participant_id != pair.participant_id
        ]
        counts = Counter(others)
        winner = next((label for label, n in counts.items() if n > len(others) / 2), None)
        assert pair.reference == winner, (pair, others)
        assert pair.n_others == len(others)
        assert (pair.status == NO_OTHERS) == (not others)


def test_the_inclusive_majority_flatters_humans_the_leave_one_out_one_does_not() -> None:
    """Four raters answering at random: against a 3-of-4 majority holding their own vote they look in agreement."""
    ratings = _ratings(np.random.default_rng(0), [4] * 30, 10, agree=0.0)
    own, inclusive = [], []
    for persona in range(1, 31):
        members = [h for h in ratings.humans if h.study_persona_id == persona]
        for i, item in enumerate(ratings.items):
            if item.study_persona_id != persona:
                continue
            votes = Counter(h.labels[i] for h in members)
            top, count = votes.most_common(1)[0]
            for h in members:
                if count >= 3:
                    own.append(h.labels[i])
                    inclusive.append(top)
    assert cohen_kappa_score(own, inclusive) > 0.3
    (humans,) = [row for row in loo_tables(ratings)["loo"]["rows"] if row["rater"] == "Humans"]
    assert abs(humans["kappa"]) < 0.15


def test_the_judge_is_scored_on_the_same_pairs_as_the_humans() -> None:
    ratings = _ratings(np.random.default_rng(9), [3] * 12, 5, agree=0.8)
    tables = loo_tables(ratings)
    rows = {row["rater"]: row for row in tables["loo"]["rows"]}
    pairs = [p for p in reference_pairs(ratings) if p.reference is not None]
    (judge,) = ratings.judges
    stacked = [(judge.orders[o][p.item], p.reference) for o in ("AB", "BA") for p in pairs]
    assert rows["coin"]["n"] == len(stacked) == 2 * rows["Humans"]["n"]
    assert rows["coin"]["kappa"] == pytest.approx(cohen_kappa_score(*zip(*stacked, strict=True)))
    assert rows["Humans"]["kappa"] == pytest.approx(
        cohen_kappa_score([p.human for p in pairs], [p.reference for p in pairs])
    )
    assert rows["Humans"]["ci_low"] is not None  # 12 personas: an interval, with its defined-resample count
    assert rows["Humans"]["ci_resamples_defined"].endswith("of 500")
    assert len(tables["loo_pairs"]["rows"]) == len(reference_pairs(ratings))
