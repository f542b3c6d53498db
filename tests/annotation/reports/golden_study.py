"""A seeded mid-size study (built by ``bench_study_scale.study_build``, with one judge's replies from
``paper_study.judgments_fill``) and its report with database ids made relative, so a report recorded on one database
compares with one computed on another, value for value."""

from __future__ import annotations

import random
import re
from typing import Any

from annotation.models import Participant, Question, Study

GOLDEN_PERSONAS = 20


def golden_study() -> Study:
    from perf.bench_study_scale import study_build
    from perf.paper_study import judgments_fill

    study = study_build(personas=GOLDEN_PERSONAS, seed=3)
    judgments_fill(study_id=study.pk, rng=random.Random(25))
    return study


def relative_ids(report: dict[str, Any], study: Study) -> dict[str, Any]:
    """The report with participant, question and persona ids counted from the study's first of each, and without
    what names the database's rows (study id, fingerprint)."""
    first_participant = Participant.objects.filter(study=study).order_by("pk").values_list("pk", flat=True)[0]
    first_question = Question.objects.filter(study_persona__study=study).order_by("pk").values_list("pk", flat=True)[0]
    first_persona = study.study_personas.order_by("persona_id").values_list("persona_id", flat=True)[0]

    def text(value: str) -> str:
        value = re.sub(r"^participant (\d+)$", lambda m: f"participant {int(m[1]) - first_participant}", value)
        return re.sub(r"^(\d+\. Persona )(\d+):", lambda m: f"{m[1]}{int(m[2]) - first_persona}:", value)

    def row(values: dict[str, Any]) -> dict[str, Any]:
        out = {key: text(value) if isinstance(value, str) else value for key, value in values.items()}
        if isinstance(out.get("participant"), int):
            out["participant"] -= first_participant
        if isinstance(out.get("question"), int):
            out["question"] -= first_question
        return out

    tables = {name: {**table, "rows": [row(r) for r in table["rows"]]} for name, table in report["tables"].items()}
    rest = {key: value for key, value in report.items() if key not in ("tables", "study_id", "fingerprint")}
    return {**rest, "tables": tables}
