"""Is the predicted width right? Rounds of a design played through the real pipeline with a known agreement
process, scored by the finished report, against the prediction for the same design and process.

Each round creates its own personas, pairs and study with the study services, enters every participant, saves every
answer with ``answer_save`` and submits (the participant's path, minus HTTP), computes the report with
``report_compute`` and reads the headline interval. Each round runs in a transaction that is rolled back, so the
check leaves the database as it found it.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from annotation.precision.simulate import AgreementProcess, Design, WidthPrediction, headline_interval, width_predict
from annotation.reports.ratings import study_ratings
from annotation.reports.study_report import report_compute
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_open, answer_save, participant_submit
from annotation.services.slots import participant_enter
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.judging.models import Choice, Order
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from personas.models import Persona

REASON = "A simulated rater's reason for the pick."


@dataclass(frozen=True)
class CheckResult:
    design: Design
    process: AgreementProcess
    prediction: WidthPrediction
    widths: list[float]  # the finished report's headline width, one per round that showed an interval
    kappas: list[float]
    rounds: int

    @property
    def mean_width(self) -> float:
        return statistics.fmean(self.widths) if self.widths else math.nan

    @property
    def ratio(self) -> float:
        """Mean observed width over predicted width (1.0 = exact)."""
        predicted = self.prediction.mean_width
        return self.mean_width / predicted if predicted else math.nan

    @property
    def ratio_interval(self) -> tuple[float, float]:
        """A 95 % interval of the ratio from the rounds' spread (normal approximation of their mean)."""
        if len(self.widths) < 2 or not self.prediction.mean_width:
            return math.nan, math.nan
        error = 1.96 * statistics.stdev(self.widths) / math.sqrt(len(self.widths)) / self.prediction.mean_width
        return self.ratio - error, self.ratio + error


def _round_play(*, design: Design, process: AgreementProcess, seed: int) -> tuple[float | None, float | None]:
    """One round through the services: the finished report's headline (width, kappa)."""
    rng = np.random.default_rng(seed)
    personas = [
        Persona.objects.create(attributes={"age": 20 + p, "sex": "Female", "occupation category": f"Check {seed}-{p}"})
        for p in range(design.personas)
    ]
    pair_ids = []
    truth: dict[int, Choice] = {}  # pair id -> the persona's true preference
    for persona in personas:
        for q in range(design.questions):
            text = f"Precision check {seed}: question {q} for persona {persona.pk}?"
            prompt, _ = Prompt.objects.get_or_create(text_sha256=text_digest(text), defaults={"text": text})
            pair = PreferencePair.objects.create(persona=persona, prompt=prompt, chosen=f"y_w {q}", rejected=f"y_l {q}")
            pair_ids.append(pair.pk)
            truth[pair.pk] = Choice.CHOSEN if rng.random() < process.prevalence else Choice.REJECTED
    config = StudySettings(
        name=f"Precision check {seed}",
        pairs_per_persona=design.questions,
        raters_per_persona=design.raters,
        majority_threshold=design.raters // 2 + 1,
        attention_checks=design.attention_checks,
        reasoning_min_chars=5,
        seed=seed,
    )
    study = study_create(config=config, personas=personas, pairs=PreferencePair.objects.filter(pk__in=pair_ids))
    study = study_transition(study=study, action="launch")
    for n in range(design.places):
        pid = f"check{seed}x{n}"
        participant = participant_enter(study=study, pid=pid, study_param="check", session_param=pid).participant
        if participant is None:  # a launched study with a free place admits every new PID
            raise RuntimeError(f"the check's participant {pid} was not admitted")
        for question in questions_for(participant=participant):
            answer = answer_open(participant=participant, question=question)
            wanted: Choice
            if question.is_attention or question.pair_id is None:
                wanted = Choice.CHOSEN  # the check's correct reply is stored as the chosen one
            else:
                preferred = truth[question.pair_id]
                other = Choice.REJECTED if preferred == Choice.CHOSEN else Choice.CHOSEN
                wanted = preferred if rng.random() < process.accuracy else other
            letter = "A" if (wanted == Choice.CHOSEN) == (answer.order_shown == Order.CHOSEN_FIRST) else "B"
            answer_save(
                participant_id=participant.pk,
                study_public_id=study.public_id,
                position=question.position,
                change=AnswerChange(letter=letter, reasoning=REASON, elapsed_ms=5000),
            )
        participant_submit(participant=participant)
    report = report_compute(ratings=study_ratings(study=study))
    interval = headline_interval(report["tables"]["loo"])
    return interval.width, interval.kappa


def precision_check(
    *, design: Design, process: AgreementProcess, rounds: int = 30, predicted_rounds: int = 200, seed: int = 0
) -> CheckResult:
    """Play ``rounds`` rounds of ``design`` under ``process`` through the real pipeline and compare the finished
    reports' headline widths with ``width_predict``'s for the same design and process (its own seed)."""
    prediction = width_predict(design, process, rounds=predicted_rounds, seed=seed + 1_000_003)
    widths, kappas = [], []
    for r in range(rounds):
        with transaction.atomic():
            width, kappa = _round_play(design=design, process=process, seed=seed + r)
            transaction.set_rollback(True)
        if width is not None:
            widths.append(width)
        if kappa is not None:
            kappas.append(kappa)
    return CheckResult(design, process, prediction, widths, kappas, rounds)
