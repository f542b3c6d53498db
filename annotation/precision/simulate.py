"""How wide will the headline kappa's 95 % interval be? Synthetic rounds of a design, scored by the report itself.

The agreement process: every item (a persona's question) has a true preference of its persona, "chosen" with
probability ``prevalence``; every rater of that persona picks it with probability ``accuracy`` and the other reply
otherwise, independently. ``accuracy`` does not depend on the design; the headline kappa does (a human is compared
with the majority of the *other* raters, and more others make a steadier reference), so an expected kappa is always
stated together with the raters per persona it was seen at, and turned into an accuracy (``process_for_kappa``).

A round's answers are drawn for all rounds at once (numpy), put into the report's own ``StudyRatings`` and scored by
the report's ``loo_tables``: the predicted interval is computed exactly as the finished report computes it (the same
leave-one-out references, the same persona bootstrap with its resample count, the same refusal below 10 personas).
No ORM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from annotation.reports.leave_one_out import HUMANS, loo_tables
from annotation.reports.ratings import HumanRater, StudyRatings
from annotation.selectors import StudyItem
from annotation.services.majority import MajorityStatus
from benchmarks.agreement import MIN_GROUPS_FOR_INTERVAL
from benchmarks.judging.models import Choice

DEFAULT_ROUNDS = 40  # per design: the width's mean to a few per cent (a round's width varies by ~15 %)


@dataclass(frozen=True)
class Design:
    """What a coordinator chooses: personas, raters per persona, pair questions per persona, attention checks."""

    personas: int
    raters: int
    questions: int
    attention_checks: int = 0

    @property
    def places(self) -> int:
        return self.personas * self.raters

    @property
    def answers(self) -> int:
        """Pair answers the headline is computed from (attention checks are not items)."""
        return self.places * self.questions

    def __str__(self) -> str:
        return f"{self.personas} personas x {self.raters} raters x {self.questions} questions"


@dataclass(frozen=True)
class AgreementProcess:
    accuracy: float  # probability a rater picks the persona's true preference
    prevalence: float = 0.5  # probability the true preference is the chosen reply


def _majority_probabilities(accuracy: float, others: int) -> tuple[float, float]:
    """P(the others' strict majority is right), P(it is wrong) for ``others`` raters; the rest is a tie."""
    if others == 0:
        return 0.0, 0.0
    need = others // 2 + 1
    right = sum(math.comb(others, j) * accuracy**j * (1 - accuracy) ** (others - j) for j in range(need, others + 1))
    wrong = sum(math.comb(others, j) * (1 - accuracy) ** j * accuracy ** (others - j) for j in range(need, others + 1))
    return right, wrong


def expected_kappa(process: AgreementProcess, *, raters: int) -> float:
    """The headline kappa the process gives in the long run: Cohen's kappa of the expected 2x2 table of (a human's
    label, the other raters' strict majority), ties left out as the report leaves them out. NaN with one rater."""
    right, wrong = _majority_probabilities(process.accuracy, raters - 1)
    a, pi = process.accuracy, process.prevalence
    table = np.zeros((2, 2))  # rows: human (chosen, rejected); columns: reference
    for truth_share, truth in ((pi, 0), (1 - pi, 1)):
        human = np.array([a, 1 - a]) if truth == 0 else np.array([1 - a, a])
        reference = np.array([right, wrong]) if truth == 0 else np.array([wrong, right])
        table += truth_share * np.outer(human, reference)
    total = table.sum()
    if total <= 0:
        return math.nan
    table /= total
    observed = np.trace(table)
    chance = float(table.sum(axis=1) @ table.sum(axis=0))
    return math.nan if chance >= 1 else float((observed - chance) / (1 - chance))


def process_for_kappa(kappa: float, *, raters: int, prevalence: float = 0.5) -> AgreementProcess:
    """The accuracy whose expected headline kappa at ``raters`` per persona is ``kappa`` (bisection; the kappa rises
    with the accuracy). Raises ValueError for a kappa outside [0, 1) or fewer than 2 raters."""
    if raters < 2:
        raise ValueError("the headline kappa needs at least 2 raters per persona")
    if not 0 <= kappa < 1:
        raise ValueError(f"expected kappa must be in [0, 1), got {kappa}")
    low, high = 0.5, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if expected_kappa(AgreementProcess(middle, prevalence), raters=raters) < kappa:
            low = middle
        else:
            high = middle
    return AgreementProcess((low + high) / 2, prevalence)


def synthetic_labels(design: Design, process: AgreementProcess, *, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Booleans (rounds x personas x raters x questions): True where the rater picked the chosen reply."""
    shape = (rounds, design.personas, 1, design.questions)
    truth = rng.random(shape) < process.prevalence
    follows = rng.random((rounds, design.personas, design.raters, design.questions)) < process.accuracy
    return np.where(follows, truth, ~truth)


def synthetic_ratings(design: Design, picks: np.ndarray) -> StudyRatings:
    """One round's picks (personas x raters x questions) as the report's ``StudyRatings`` (no judges). Only what the
    headline reads is filled in; the whole-group majority fields stay empty."""
    items = [
        StudyItem(
            question_id=p * design.questions + q + 1,
            study_persona_id=p + 1,
            persona_id=p + 1,
            pair_id=q + 1,
            persona_position=p + 1,
            position=q + 1,
        )
        for p in range(design.personas)
        for q in range(design.questions)
    ]
    n_items = len(items)
    labels = np.where(picks, Choice.CHOSEN.value, Choice.REJECTED.value)
    humans = []
    for p in range(design.personas):
        start = p * design.questions
        for r in range(design.raters):
            answered = dict(enumerate(labels[p, r].tolist(), start=start))  # item index → label, its persona's only
            humans.append(HumanRater(participant_id=p * design.raters + r + 1, study_persona_id=p + 1, labels=answered))
    return StudyRatings(
        study_id=0,
        majority_threshold=design.raters // 2 + 1,
        items=items,
        persona_labels={p + 1: f"{p + 1}. synthetic" for p in range(design.personas)},
        majority=[None] * n_items,
        majority_status=[MajorityStatus.NO_VOTES.value] * n_items,
        majority_outcome=[""] * n_items,
        votes=[(0, 0)] * n_items,
        humans=humans,
        judges=[],
    )


@dataclass(frozen=True)
class HeadlineInterval:
    """The humans' row of the report's headline table: kappa and its interval (None where the report shows none)."""

    kappa: float | None
    low: float | None
    high: float | None
    note: str

    @property
    def width(self) -> float | None:
        return None if self.low is None or self.high is None else self.high - self.low


def headline_interval(report_loo: dict) -> HeadlineInterval:
    """The humans' row of a report's ``loo`` table (a stored report's ``tables["loo"]`` or ``loo_tables``')."""
    row = next(r for r in report_loo["rows"] if r["rater"] == HUMANS)
    return HeadlineInterval(row["kappa"], row["ci_low"], row["ci_high"], row["ci_note"])


@dataclass(frozen=True)
class WidthPrediction:
    design: Design
    process: AgreementProcess
    rounds: int
    expected_kappa: float
    mean_width: float | None  # over the rounds that showed an interval; None when none did
    low_width: float | None  # 10th and 90th percentile of the width: how much one round can differ
    high_width: float | None
    shown_share: float  # share of rounds where the report shows an interval at all
    reason: str  # why no interval is shown, when none is

    @property
    def half_width(self) -> float | None:
        return None if self.mean_width is None else self.mean_width / 2


def width_predict(
    design: Design, process: AgreementProcess, *, rounds: int = DEFAULT_ROUNDS, seed: int = 0
) -> WidthPrediction:
    """Simulate ``rounds`` rounds of ``design`` under ``process`` and score each with the report's headline."""
    kappa = expected_kappa(process, raters=design.raters)
    if design.raters < 2:
        return WidthPrediction(design, process, 0, kappa, None, None, None, 0.0, "one rater per persona: no reference")
    if design.personas < MIN_GROUPS_FOR_INTERVAL:
        reason = f"no interval: {design.personas} personas (the report needs at least {MIN_GROUPS_FOR_INTERVAL})"
        return WidthPrediction(design, process, 0, kappa, None, None, None, 0.0, reason)
    picks = synthetic_labels(design, process, rounds=rounds, rng=np.random.default_rng(seed))
    widths, reasons = [], []
    for r in range(rounds):
        interval = headline_interval(loo_tables(synthetic_ratings(design, picks[r]))["loo"])
        if interval.width is None:
            reasons.append(interval.note)
        else:
            widths.append(interval.width)
    if not widths:
        return WidthPrediction(design, process, rounds, kappa, None, None, None, 0.0, reasons[0] if reasons else "")
    values = np.array(widths)
    low, high = np.percentile(values, [10, 90])
    return WidthPrediction(
        design, process, rounds, kappa, float(values.mean()), float(low), float(high), len(widths) / rounds, ""
    )
