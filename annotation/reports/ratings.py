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
from benchmarks.judging.models import DECISIVE, Choice, Judge, Judgment, Order

# Every choice and order as one string object each: the database gives a new string per row, which the report would
# otherwise keep per answer and per reply.
_SHARED = {value: value for value in (*Choice.values, *Order.values)}
NO_MAJORITY = "no majority"  # how every "no majority: …" outcome starts (MajorityResult.outcome)


@dataclass(frozen=True, slots=True)  # one per counted rater (6,344 at paper scale)
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
        choice = _SHARED.get(vote.choice, vote.choice)
        rater.labels[index[vote.question_id]] = choice
        votes[index[vote.question_id]].append(choice)
    majority, status, outcome, counts = [], [], [], []
    for item_votes in votes:  # one result at a time: 15,860 result objects held at once were several MB
        result = majority_compute(votes=item_votes, threshold=study.majority_threshold)
        majority.append(result.label or None)
        status.append(result.status.value)
        outcome.append(result.outcome)
        counts.append((result.chosen_votes, result.rejected_votes))
    del votes
    return StudyRatings(
        study_id=study.pk,
        majority_threshold=study.majority_threshold,
        items=items,
        persona_labels=persona_labels,
        majority=majority,
        majority_status=status,
        majority_outcome=outcome,
        votes=counts,
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
        .iterator(chunk_size=2000)
    )
    # The rows come grouped by judge, item and order, so each order's answer is made when its group ends: no
    # per-sample dict of the whole study (31,720 keyed lists at paper scale).
    judges: dict[int, JudgeRatings] = {}
    confidence_sums: dict[int, tuple[list[int], list[int]]] = {}
    group: tuple[int, int, str] | None = None
    choices: list[str] = []

    def group_end() -> None:
        if group is not None:
            judge_id, i, order = group
            judges[judge_id].orders[order][i] = order_answer(choices)

    for judge_id, persona_id, pair_id, order, choice, confidence in rows:
        i = position.get((persona_id, pair_id))
        if i is None:
            continue
        order, choice = _SHARED.get(order, order), _SHARED.get(choice, choice)
        if judge_id not in judges:
            judges[judge_id] = JudgeRatings(judge_id, "", {o: [None] * len(items) for o in Order.values})
            confidence_sums[judge_id] = ([0] * len(items), [0] * len(items))
        if group != (judge_id, i, order):
            group_end()
            group, choices = (judge_id, i, order), []
        choices.append(choice)
        judges[judge_id].replies.append((i, order, choice))
        if confidence is not None:
            sums, counts = confidence_sums[judge_id]
            sums[i] += confidence
            counts[i] += 1
    group_end()
    names = dict(Judge.objects.filter(pk__in=judges).values_list("pk", "name"))
    result = []
    for judge_id in sorted(judges, key=lambda pk: names[pk]):
        ratings = judges[judge_id]
        ratings.name = names[judge_id]
        ratings.aggregated = [aggregated_answer(ab, ba) for ab, ba in ratings.both_orders()]
        sums, counts = confidence_sums[judge_id]
        ratings.confidence = [total / n if n else None for total, n in zip(sums, counts, strict=True)]
        result.append(ratings)
    return result
