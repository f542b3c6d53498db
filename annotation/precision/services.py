"""Recruit by precision: before launch, the designs a coordinator can choose with the headline kappa's predicted
interval width, cost and time to fill; while running, the interval so far and the width still to go; adding raters
or personas in one step.

The expected agreement is a pilot study's headline kappa (humans against the leave-one-out majority, from the
report's ``loo_tables``) at the pilot's raters per persona, or ``DEFAULT_KAPPA`` at ``DEFAULT_KAPPA_RATERS``.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from dataclasses import dataclass

from django.core.cache import cache

from annotation.models import Participant, Study, StudyStatus
from annotation.precision.recruitment import Quote, places_raise, quote_get
from annotation.precision.simulate import (
    AgreementProcess,
    Design,
    HeadlineInterval,
    WidthPrediction,
    headline_interval,
    process_for_kappa,
    width_predict,
)
from annotation.reports.leave_one_out import loo_tables
from annotation.reports.ratings import study_ratings
from annotation.reports.services import report_ensure
from annotation.reports.study_report import REPORT_VERSION
from annotation.services.study import slot_add, study_personas_add
from benchmarks.judging.models import Choice

DEFAULT_KAPPA = 0.4  # "moderate" (Landis-Koch): what a coordinator without a pilot should plan for, not hope for
DEFAULT_KAPPA_RATERS = 3
DEFAULT_TARGET_WIDTH = 0.2  # kappa ± 0.10
CACHE_SECONDS = 24 * 3600


class PrecisionError(Exception):
    """A precision request that cannot be carried out; the message is fit to show the coordinator."""


@dataclass(frozen=True)
class ExpectedAgreement:
    kappa: float
    raters: int  # raters per persona the kappa was seen at (the headline depends on it)
    prevalence: float  # share of items whose true preference is the chosen reply
    source: str  # in words, for the page

    @property
    def process(self) -> AgreementProcess:
        return process_for_kappa(self.kappa, raters=self.raters, prevalence=self.prevalence)


def agreement_default() -> ExpectedAgreement:
    return ExpectedAgreement(
        DEFAULT_KAPPA,
        DEFAULT_KAPPA_RATERS,
        0.5,
        f"default: κ = {DEFAULT_KAPPA} at {DEFAULT_KAPPA_RATERS} raters per persona (no pilot chosen)",
    )


def agreement_from_pilot(*, pilot: Study) -> ExpectedAgreement:
    """The pilot's headline kappa, its median raters per persona and its share of "chosen" answers. Raises
    ``PrecisionError`` when the pilot has no defined headline kappa to learn from."""
    ratings = study_ratings(study=pilot)
    interval = headline_interval(loo_tables(ratings)["loo"])
    counted = [n for n in ratings.raters_per_persona().values() if n]
    if interval.kappa is None or not counted:
        raise PrecisionError(f"The pilot “{pilot.name}” has no headline kappa yet (too few completed raters).")
    raters = max(2, round(statistics.median(counted)))
    kappa = min(max(interval.kappa, 0.0), 0.95)
    labels = [label for human in ratings.humans for label in human.labels.values() if label is not None]
    observed = sum(label == Choice.CHOSEN for label in labels) / len(labels) if labels else 0.5
    # The observed share mixes the truth with the raters' noise: s = π·a + (1-π)(1-a), so π = (s - 1 + a)/(2a - 1).
    accuracy = process_for_kappa(kappa, raters=raters).accuracy
    prevalence = 0.5 if accuracy <= 0.5 else (observed - 1 + accuracy) / (2 * accuracy - 1)
    prevalence = min(max(prevalence, 0.05), 0.95)
    return ExpectedAgreement(
        kappa,
        raters,
        prevalence,
        f"pilot “{pilot.name}”: κ = {kappa:.2f} at {raters} raters per persona, {observed:.0%} chose y_w",
    )


def pilot_choices(*, study: Study) -> list[Study]:
    """Other studies with completed raters, newest first: the pilots a coordinator can plan from."""
    with_raters = Participant.objects.counted().values("study_id")
    return list(Study.objects.exclude(pk=study.pk).filter(pk__in=with_raters).order_by("-pk")[:50])


def design_of(study: Study) -> Design:
    return Design(
        personas=study.study_personas.count(),
        raters=study.raters_per_persona,
        questions=study.pairs_per_persona,
        attention_checks=study.attention_checks,
    )


def design_alternatives(design: Design) -> list[tuple[str, Design]]:
    """The design as it stands beside a cheaper one and tighter ones: more personas, more raters, more questions."""
    more_personas = max(design.personas + math.ceil(design.personas / 2), 10)
    more_questions = design.questions + max(1, math.ceil(design.questions / 2))
    rows = [
        ("This design", design),
        ("More personas", Design(more_personas, design.raters, design.questions, design.attention_checks)),
        ("More raters", Design(design.personas, design.raters + 1, design.questions, design.attention_checks)),
        ("More questions", Design(design.personas, design.raters, more_questions, design.attention_checks)),
    ]
    if design.raters > 2:
        rows.append(("Cheaper", Design(design.personas, design.raters - 1, design.questions, design.attention_checks)))
    elif design.personas > 10:
        smaller = max(10, design.personas - math.ceil(design.personas / 4))
        rows.append(("Cheaper", Design(smaller, design.raters, design.questions, design.attention_checks)))
    return rows


def minutes_for(*, study: Study, design: Design) -> int:
    """A participant's time for ``design``: the study's estimate scaled by the questions each one answers."""
    per_study = study.pairs_per_persona + study.attention_checks
    return max(1, math.ceil(study.estimated_minutes * (design.questions + design.attention_checks) / per_study))


def width_predict_cached(design: Design, process: AgreementProcess, *, rounds: int, seed: int = 0) -> WidthPrediction:
    """``width_predict``, remembered per (design, process, rounds, report version): the page asks again on reload."""
    key = (
        "precision:"
        + hashlib.sha256(
            repr(
                (REPORT_VERSION, design, round(process.accuracy, 6), round(process.prevalence, 6), rounds, seed)
            ).encode()
        ).hexdigest()
    )
    found = cache.get(key)
    if isinstance(found, WidthPrediction):
        return found
    prediction = width_predict(design, process, rounds=rounds, seed=seed)
    cache.set(key, prediction, CACHE_SECONDS)
    return prediction


@dataclass(frozen=True)
class PlanRow:
    label: str
    design: Design
    prediction: WidthPrediction
    minutes: int
    quote: Quote


@dataclass(frozen=True)
class PrecisionPlan:
    expected: ExpectedAgreement
    rows: list[PlanRow]


def precision_plan(*, study: Study, expected: ExpectedAgreement, rounds: int = 30) -> PrecisionPlan:
    """Every alternative design with its predicted interval width, expected kappa, time per participant, cost and
    time to fill (the last two from the connected recruiter)."""
    process = expected.process
    rows = []
    for label, design in design_alternatives(design_of(study)):
        minutes = minutes_for(study=study, design=design)
        rows.append(
            PlanRow(
                label,
                design,
                width_predict_cached(design, process, rounds=rounds),
                minutes,
                quote_get(study=study, places=design.places, minutes=minutes),
            )
        )
    return PrecisionPlan(expected, rows)


@dataclass(frozen=True)
class RunningPrecision:
    """The headline interval as the latest report shows it, and how far it is from the target width."""

    interval: HeadlineInterval | None  # None before the first report
    fresh: bool  # False: the report is being recomputed for the newest submissions
    target_width: float
    personas: int = 0  # personas in the study now

    @property
    def width_to_go(self) -> float | None:
        width = self.interval.width if self.interval is not None else None
        return None if width is None else max(0.0, width - self.target_width)

    @property
    def reached(self) -> bool:
        width = self.interval.width if self.interval is not None else None
        return width is not None and width <= self.target_width

    @property
    def personas_to_add(self) -> int | None:
        """Roughly how many more personas (with the same raters and questions) reach the target: the interval of a
        persona bootstrap narrows as 1/sqrt(personas). None when there is no interval yet or the target is met."""
        width = self.interval.width if self.interval is not None else None
        if width is None or self.reached or not self.personas:
            return None
        return max(1, math.ceil(self.personas * (width / self.target_width) ** 2) - self.personas)


def precision_running(
    *, study: Study, target_width: float = DEFAULT_TARGET_WIDTH, user: object = None
) -> RunningPrecision:
    """The headline interval of the study's latest report (queueing a recompute when submissions changed it)."""
    state = report_ensure(study=study, started_by=user)
    data = state.data
    loo = data.get("tables", {}).get("loo") if data else None
    return RunningPrecision(
        headline_interval(loo) if loo else None, state.fresh, target_width, study.study_personas.count()
    )


@dataclass(frozen=True)
class Added:
    slots: int
    message: str


def raters_add(*, study: Study, per_persona: int) -> Added:
    """One more place (or ``per_persona``) for every persona of the study, then places raised on the recruiter."""
    if study.status == StudyStatus.CLOSED:
        raise PrecisionError("A closed study takes no new raters.")
    if not 1 <= per_persona <= 10:
        raise PrecisionError("Add between 1 and 10 raters per persona.")
    entries = list(study.study_personas.all())
    for entry in entries:
        for _ in range(per_persona):
            slot_add(study_persona=entry)
    added = len(entries) * per_persona
    raised = places_raise(study=study, by=added) if study.status != StudyStatus.DRAFT else ""
    return Added(added, f"Added {added} places ({per_persona} per persona). {raised}".strip())


def personas_add(*, study: Study, count: int) -> Added:
    """``count`` more personas with the study's k places each, then places raised on the recruiter."""
    if not 1 <= count <= 50:
        raise PrecisionError("Add between 1 and 50 personas.")
    entries = study_personas_add(study=study, count=count)
    added = sum(entry.slots.count() for entry in entries)
    raised = places_raise(study=study, by=added) if study.status != StudyStatus.DRAFT else ""
    return Added(added, f"Added {len(entries)} personas with {added} places. {raised}".strip())
