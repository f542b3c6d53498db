"""A random study's ratings, the same draws in either of the two shapes a rater's labels have had: a dense list as
long as the study's items (``dense=True``, the shape before the report became linear in answers) or a dict of the
answered items. ``tests/fixtures/reports/random_report.json`` is the report the dense implementation computed from
``random_ratings(seed=RANDOM_SEED, dense=True)``; the current one must give the same numbers to the last digit."""

from __future__ import annotations

import numpy as np

from annotation.reports.ratings import HumanRater, JudgeRatings, StudyRatings
from annotation.selectors import StudyItem
from annotation.services.majority import majority_compute
from benchmarks.judging.aggregate import aggregated_answer, order_answer

RANDOM_SEED = 25
CHOICES = ("chosen", "rejected", "abstain", "invalid")


def random_ratings(*, seed: int, dense: bool, personas: int = 24, questions: int = 6) -> StudyRatings:
    rng = np.random.default_rng(seed)
    items: list[StudyItem] = []
    humans: list[HumanRater] = []
    votes: list[list[str]] = []
    for persona in range(1, personas + 1):
        first = len(items)
        items += [StudyItem(100 * persona + q, persona, 500 + persona, 900 + q, persona, q) for q in range(questions)]
        votes += [[] for _ in range(questions)]
        truth = rng.choice(["chosen", "rejected"], size=questions)
        for j in range(int(rng.integers(0, 6))):  # 0 to 5 counted raters
            labels: dict[int, str] = {}
            for q in range(questions):
                if rng.random() < 0.1:  # a question left unanswered
                    continue
                label = str(truth[q] if rng.random() < 0.7 else rng.choice(["chosen", "rejected"]))
                labels[first + q] = label
                votes[first + q].append(label)
            humans.append(HumanRater(10_000 * persona + j, persona, labels))
    rng.shuffle(humans)  # raters arrive in any order
    judges = []
    for judge_id, name in ((1, "alpha"), (2, "beta"), (3, "gamma")):
        judge = JudgeRatings(judge_id, name)
        replies = []
        confidence: list[float | None] = []
        for i in range(len(items)):
            if rng.random() < 0.08:  # not judged
                confidence.append(None)
                continue
            for order in ("AB", "BA"):
                for _ in range(int(rng.integers(1, 3))):
                    replies.append((i, order, str(rng.choice(CHOICES, p=[0.45, 0.4, 0.1, 0.05]))))
            confidence.append(float(rng.integers(1, 101)) if judge_id != 3 else None)
        judge.replies = replies
        for order in ("AB", "BA"):
            judge.orders[order] = [
                order_answer([c for i2, o, c in replies if i2 == i and o == order]) for i in range(len(items))
            ]
        judge.aggregated = [aggregated_answer(ab, ba) for ab, ba in judge.both_orders()]
        judge.confidence = confidence
        judges.append(judge)
    results = [majority_compute(votes=v, threshold=3) for v in votes]
    if dense:
        for human in humans:
            dense_labels: list[str | None] = [None] * len(items)
            for i, label in human.labels.items():
                dense_labels[i] = label
            object.__setattr__(human, "labels", dense_labels)
    return StudyRatings(
        study_id=1,
        majority_threshold=3,
        items=items,
        persona_labels={p: f"{p}. Persona {p}" for p in range(1, personas + 1)},
        majority=[r.label or None for r in results],
        majority_status=[r.status.value for r in results],
        majority_outcome=[r.outcome for r in results],
        votes=[(r.chosen_votes, r.rejected_votes) for r in results],
        humans=humans,
        judges=judges,
    )
