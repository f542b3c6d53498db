"""Demo step: a closed study with simulated raters, the four offline judges run on it, and its report computed.

Registered last in ``DEMO_STEPS`` by ``AnnotationConfig.ready``, so the report is built after every other demo step
and changes nothing they create. ``report_demo_ensure`` still calls annotation's (idempotent) step first for the demo
personas and pairs, so it also works on its own. It builds its own study, so the participant demo study
keeps all its places free. Everything runs in this process: no worker.
"""

from __future__ import annotations

import hashlib

from annotation.demo import annotation_demo_ensure
from annotation.models import Study
from annotation.reports.services import report_refresh, report_state
from annotation.selectors import questions_for, study_items
from annotation.services.answers import AnswerChange, answer_open, answer_save, participant_submit
from annotation.services.slots import participant_enter
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.judging.models import Order
from benchmarks.judging.services import BASELINE_JUDGES, baseline_judges_ensure, judgments_run
from core.demo import demo_base_url
from personas.selectors import personas_select

DEMO_REPORT_STUDY = "Demo report study: simulated raters vs offline judges"
DEMO_JUDGES = BASELINE_JUDGES
_PREFERS_CHOSEN = 0.65  # how often the persona's simulated preference is the chosen answer
_FOLLOWS_PREFERENCE = 0.85  # how often a simulated rater picks the persona's preference


def _share(text: str) -> float:
    return hashlib.sha256(text.encode()).digest()[0] / 256


def _simulated_pick(pid: str, question_id: int) -> str:
    """A rater who mostly agrees with the other raters of the persona, so the human baseline is not pure noise."""
    preferred, other = (
        ("chosen", "rejected") if _share(f"truth:{question_id}") < _PREFERS_CHOSEN else ("rejected", "chosen")
    )
    return preferred if _share(f"{pid}:{question_id}") < _FOLLOWS_PREFERENCE else other


def _study_ensure() -> Study:

    study = Study.objects.filter(name=DEMO_REPORT_STUDY).first()
    if study is not None:
        return study
    annotation_demo_ensure()  # the demo personas and pairs
    config = StudySettings(
        name=DEMO_REPORT_STUDY,
        pairs_per_persona=6,
        raters_per_persona=3,
        majority_threshold=2,
        attention_checks=1,
        reasoning_min_chars=10,
        estimated_minutes=8,
        seed=2,
    )
    study = study_transition(
        study=study_create(config=config, personas=personas_select(sample_size=3, seed=1)), action="launch"
    )
    for n in range(study.study_personas.count() * config.raters_per_persona):
        pid = f"demoreport{n:02d}"
        participant = participant_enter(study=study, pid=pid, study_param="demo", session_param=pid).participant
        for question in questions_for(participant=participant):
            answer = answer_open(participant=participant, question=question)
            wanted = "chosen" if question.is_attention else _simulated_pick(pid, question.pk)
            letter = "A" if (wanted == "chosen") == (answer.order_shown == Order.CHOSEN_FIRST) else "B"
            change = AnswerChange(letter=letter, reasoning="Simulated rater for the demo report.", elapsed_ms=9000)
            answer_save(
                participant_id=participant.pk,
                study_public_id=study.public_id,
                position=question.position,
                change=change,
            )
        participant_submit(participant=participant)
    return study_transition(study=study, action="close")


def report_demo_ensure() -> str:
    """Idempotent: creates what is missing, judges only unjudged items, recomputes the report only when stale."""

    study = _study_ensure()
    items = [(item.persona_id, item.pair_id) for item in study_items(study=study)]
    for judge in baseline_judges_ensure():
        judgments_run(judge=judge, items=items)
    if not report_state(study=study).fresh:
        report_refresh(study=study)
    url = f"{demo_base_url()}/studies/{study.pk}/report/"
    return f"Study report: {len(DEMO_JUDGES)} offline judges on '{study.name}': {url}"
