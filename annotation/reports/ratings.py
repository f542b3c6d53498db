"""From the database to label arrays: who said what on each item of a study (the report's only ORM reads).

Labels are the pair's: "chosen" (y_w) or "rejected" (y_l); ``None`` where a rater has no decisive label. Why a label
is missing is kept beside it (a human tie, a judge's abstain or invalid reply), so the report can count it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from annotation.models import Study
from annotation.selectors import StudyItem, counted_votes, study_items
from annotation.services.majority import MajorityStatus, majority_compute
from benchmarks.judging.aggregate import aggregated_answer, order_answer
from benchmarks.judging.models import DECISIVE, Judge, Judgment, Order

NO_MAJORITY = "no majority"  # how every "no majority: …" outcome starts (MajorityResult.outcome)


@dataclass(frozen=True)
class HumanRater:
    participant_id: int
    study_persona_id: int
    # Item index → label, only the items this rater answered: a rater's share of the report is as long as their
    # answers, never as long as the study (a dense list per rater grew with raters x items).
    labels: dict[int, str]


@dataclass
class JudgeRatings:
    judge_id: int
    name: str
    # Per order: the order's answer per item (chosen/rejected/abstain/invalid, None = not judged).
    orders: dict[str, list[str | None]] = field(default_factory=dict)
    aggregated: list[str | None] = field(default_factory=list)
    confidence: list[float | None] = field(default_factory=list)  # mean over both orders' samples
    # Every stored reply (each sample of each order): (item index, order, choice), for position bias.
    replies: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def has_confidence(self) -> bool:
        return any(value is not None for value in self.confidence)

    def both_orders(self) -> list[tuple[str | None, str | None]]:
        """Per item, the answer shown chosen-first and the answer shown rejected-first."""
        return list(zip(self.orders[Order.CHOSEN_FIRST], self.orders[Order.REJECTED_FIRST], strict=True))


@dataclass
class StudyRatings:
    study_id: int
    majority_threshold: int
    items: list[StudyItem]
    persona_labels: dict[int, str]  # study persona id → "1. Persona 4: 67, Female"
    majority: list[str | None]
    majority_status: list[str]  # majority | tie | no_majority | no_votes
    majority_outcome: list[str]  # MajorityResult.outcome: the label, "tie", "no majority: 1 rater", …
    votes: list[tuple[int, int]]  # (chosen, rejected) votes per item
    humans: list[HumanRater]
    judges: list[JudgeRatings]

    @property
    def completed_participants(self) -> int:
        return len(self.humans)

    @property
    def majority_shown(self) -> list[str | None]:
        """Per item, the majority's label or, where there is none, its outcome in words ("tie", "no majority:
        1 rater", …, the same words as ``majority.csv``); None where nobody voted."""
        return [
            None if status == MajorityStatus.NO_VOTES else outcome
            for outcome, status in zip(self.majority_outcome, self.majority_status, strict=True)
        ]

    @property
    def majority_kinds(self) -> list[str | None]:
        """Per item, the majority's outcome as the report counts it: the label, "tie", "no majority" (however many
        votes short), None where nobody voted."""
        return [
            shown if shown is None or shown in DECISIVE or shown == MajorityStatus.TIE else NO_MAJORITY
            for shown in self.majority_shown
        ]

    def items_by_persona(self) -> dict[int, list[int]]:
        """Indices into ``items`` of each study persona's questions, in item order."""
        groups: dict[int, list[int]] = defaultdict(list)
        for index, item in enumerate(self.items):
            groups[item.study_persona_id].append(index)
        return dict(groups)

    def humans_by_persona(self) -> dict[int, list[int]]:
        """Indices into ``humans`` of each study persona's counted raters (personas in order of their first rater)."""
        groups: dict[int, list[int]] = defaultdict(list)
        for index, human in enumerate(self.humans):
            groups[human.study_persona_id].append(index)
        return dict(groups)

    def raters_per_persona(self) -> dict[int, int]:
        """Counted raters of every study persona (0 for a persona nobody completed)."""
        counts = dict.fromkeys(self.persona_labels, 0)
        for human in self.humans:
            counts[human.study_persona_id] = counts.get(human.study_persona_id, 0) + 1
        return counts


def decisive(label: str | None) -> str | None:
    return label if label in DECISIVE else None


def study_ratings(*, study: Study) -> StudyRatings:
    """Human answers (submitted, not excluded, not previews) and every judge's judgments on the study's items."""
    items = study_items(study=study)
    index = {item.question_id: i for i, item in enumerate(items)}
    entries = study.study_personas.select_related("persona").order_by("position")
    persona_labels = {entry.pk: f"{entry.position}. {entry.persona}" for entry in entries}

    by_rater: dict[int, HumanRater] = {}
    votes: list[list[str]] = [[] for _ in items]
    for vote in counted_votes(question_ids=index):
        rater = by_rater.get(vote.participant_id)
        if rater is None:
            rater = by_rater[vote.participant_id] = HumanRater(vote.participant_id, vote.study_persona_id, {})
        rater.labels[index[vote.question_id]] = vote.choice
        votes[index[vote.question_id]].append(vote.choice)
    results = [majority_compute(votes=v, threshold=study.majority_threshold) for v in votes]
    return StudyRatings(
        study_id=study.pk,
        majority_threshold=study.majority_threshold,
        items=items,
        persona_labels=persona_labels,
        majority=[r.label or None for r in results],
        majority_status=[r.status.value for r in results],
        majority_outcome=[r.outcome for r in results],
        votes=[(r.chosen_votes, r.rejected_votes) for r in results],
        humans=list(by_rater.values()),
        judges=judges_ratings(items=items),
    )


def judges_ratings(*, items: list[StudyItem]) -> list[JudgeRatings]:
    """Every judge with at least one judgment on these items: per-order answers, aggregated answers, confidence."""
    position = {(item.persona_id, item.pair_id): i for i, item in enumerate(items)}
    if not position:
        return []
    rows = (
        Judgment.objects.filter(
            persona_id__in={item.persona_id for item in items}, pair_id__in={item.pair_id for item in items}
        )
        .values_list("judge_id", "persona_id", "pair_id", "order", "choice", "confidence")
        .order_by("judge_id", "persona_id", "pair_id", "order", "sample")
    )
    samples: dict[int, dict[tuple[int, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    confidences: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    replies: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for judge_id, persona_id, pair_id, order, choice, confidence in rows:
        i = position.get((persona_id, pair_id))
        if i is None:
            continue
        samples[judge_id][(i, order)].append(choice)
        replies[judge_id].append((i, order, choice))
        if confidence is not None:
            confidences[judge_id][i].append(confidence)
    names = dict(Judge.objects.filter(pk__in=samples).values_list("pk", "name"))
    result = []
    for judge_id in sorted(samples, key=lambda pk: names[pk]):
        ratings = JudgeRatings(judge_id, names[judge_id], replies=replies[judge_id])
        for order in Order.values:
            ratings.orders[order] = [order_answer(samples[judge_id].get((i, order), [])) for i in range(len(items))]
        ratings.aggregated = [aggregated_answer(ab, ba) for ab, ba in ratings.both_orders()]
        ratings.confidence = [
            sum(values) / len(values) if (values := confidences[judge_id].get(i)) else None for i in range(len(items))
        ]
        result.append(ratings)
    return result
