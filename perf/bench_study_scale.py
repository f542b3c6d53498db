"""A study at the paper's scale: the coordinator's pages and the exports. Command: ``bin/perf study_scale``.

Needs PostgreSQL (``DATABASE_URL=postgres://… bin/perf study_scale``; on SQLite it prints one row saying so). Builds
``PERF_STUDY_PERSONAS`` (default 1,586) personas x 4 raters x 10 questions + 1 attention check (6,344 participants,
69,784 answers at full size) and a study a tenth that size (``perf.paper_study``: in a scratch database, built once
and shared with ``bench_report_scale``), then for each prints, beside its target:

- the study page, its dashboard partial (htmx; it polls every 5 s) and the participants list (page 1): time
  (best of three) ≤ 300 ms, peak Python memory (tracemalloc) and database queries — the same count at both sizes;
- ``answers.csv``, ``answers.jsonl`` and ``majority.csv``: time and peak memory while the whole body is read;
  constant memory means the full study's peak is within 1.5x the small one's (ten times fewer rows).

The requests go through Django's test client (the whole middleware and template stack, no socket), logged in as
a coordinator. The study is built through the services where they are bulk already (``study_create`` draws the
questionnaires and places, ``study_transition`` launches) and, for the raters, through a documented bulk path,
``raters_fill``: the rows ``participant_enter`` / ``answer_open`` / ``answer_save`` / ``participant_submit``
write, created with ``bulk_create``/``bulk_update`` against the same database constraints (one PID per study, a
slot's holder matching its status, one answer per question, valid choices and orders; the order shown comes from
``order_for``, as the participant pages draw it).
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotation.models import Answer, Participant, Question, Slot, SlotStatus, Study, order_for
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.judging.models import Choice
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptSplit, text_digest
from perf.paper_study import paper_studies, phase
from perf.result import Result
from personas.models import Persona, PersonaStatus
from tests.factories import UserFactory

TAG = "bench-study-scale"
RATERS = 4
QUESTIONS = 10
PAGE_TARGET_MS = 300
CONSTANT_MEMORY_RATIO = 1.5
REASONS = [
    "They would pick the answer that respects their budget and their family's routine.",
    "As a {n}-year-old with this job, the practical reply fits how they actually live.",
    "The other reply lectures; this persona prefers being given options and left to decide.",
    "Their faith and community matter to them, and only one answer takes that seriously.",
    "too short",
]


@dataclass(frozen=True)
class Measure:
    name: str
    seconds: float  # best of the timed runs
    peak_mb: float  # tracemalloc peak during one run
    queries: int
    size_bytes: int


def _persona_attributes(i: int) -> dict[str, str]:
    return {"age": str(20 + i % 60), "sex": ["Female", "Male"][i % 2], "ancestry": TAG, "religion": f"Faith {i}"}


def study_build(*, personas: int, raters: int = RATERS, questions: int = QUESTIONS, seed: int = 0) -> Study:
    """A launched study of ``personas`` x ``raters`` x ``questions`` (+ 1 attention check), its raters filled."""
    Persona.objects.bulk_create(
        [Persona(attributes=_persona_attributes(i), status=PersonaStatus.CONSISTENT) for i in range(personas)],
        batch_size=2000,
    )
    pool = list(Persona.objects.filter(attributes__ancestry=TAG).order_by("-id")[:personas])[::-1]
    prompts = []
    for i in range(questions * 2):
        text = f"[{TAG}] Should people budget differently, question {i}?"
        prompts.append(
            Prompt(
                text=text,
                text_sha256=text_digest(text),
                topic=TAG,
                form_check=FormCheck.PASSED,
                controversy=ControversyVerdict.CONTROVERSIAL,
                split=PromptSplit.TRAIN,
            )
        )
    Prompt.objects.bulk_create(prompts, ignore_conflicts=True)
    prompt_rows = Prompt.objects.filter(text__startswith=f"[{TAG}]")
    PreferencePair.objects.bulk_create(
        [
            PreferencePair(prompt=p, chosen=f"A considerate reply to {p.pk}.", rejected=f"A generic reply to {p.pk}.")
            for p in prompt_rows
            if not PreferencePair.objects.filter(prompt=p, persona=None).exists()
        ]
    )
    config = StudySettings(
        name=f"{TAG} {personas}",
        pairs_per_persona=questions,
        raters_per_persona=raters,
        majority_threshold=min(3, raters),
        attention_checks=1,
        reasoning_min_chars=20,
        seed=seed,
    )
    pairs = PreferencePair.objects.filter(prompt__text__startswith=f"[{TAG}]", persona=None)
    study = study_transition(study=study_create(config=config, personas=pool, pairs=pairs), action="launch")
    raters_fill(study=study, rng=random.Random(seed))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh planner statistics after the bulk writes
            for model in (Participant, Slot, Question, Answer):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return study


def raters_fill(*, study: Study, rng: random.Random) -> None:
    """Take every place of a launched study with a simulated rater, in bulk: of each 20 places one is held by a
    rater half-way through, the rest by raters who answered every question and submitted.

    The rows are those the participant pages write (``participant_enter`` claims a slot for a new PID,
    ``answer_open`` creates the answer with ``order_for``'s order, ``answer_save`` fills choice, reason and time,
    ``participant_submit`` completes the slot), so the database's constraints hold them to the same rules."""
    now = timezone.now()
    positions = dict(study.study_personas.values_list("pk", "position"))
    questionnaire: dict[int, list[tuple[int, int, str]]] = {}
    for pk, entry_id, position, kind in Question.objects.filter(study_persona__study=study).values_list(
        "pk", "study_persona_id", "position", "kind"
    ):
        questionnaire.setdefault(entry_id, []).append((pk, position, kind))
    slots = list(Slot.objects.filter(study=study).order_by("study_persona__position", "index"))
    taken = list(enumerate(slots))
    participants = Participant.objects.bulk_create(
        [
            Participant(
                study=study,
                prolific_pid=f"{TAG}-{i}",
                prolific_study_id="PERF",
                prolific_session_id=f"{TAG}-session-{i}",
                study_persona_id=slot.study_persona_id,
                status=Participant.Status.ACTIVE if i % 20 == 18 else Participant.Status.SUBMITTED,
                started_at=now,
                submitted_at=None if i % 20 == 18 else now + timedelta(minutes=rng.uniform(6, 40)),
            )
            for i, slot in taken
        ],
        batch_size=2000,
    )
    answers = []
    for (_, slot), participant in zip(taken, participants, strict=True):
        done = participant.status == Participant.Status.SUBMITTED
        slot.holder, slot.reserved_at = participant, now
        slot.status = SlotStatus.COMPLETE if done else SlotStatus.RESERVED
        persona_position = positions[slot.study_persona_id]
        items = sorted(questionnaire[slot.study_persona_id], key=lambda item: item[1])
        for question_id, position, kind in items if done else items[: len(items) // 2]:
            check = kind == Question.Kind.ATTENTION
            answers.append(
                Answer(
                    participant=participant,
                    question_id=question_id,
                    order_shown=order_for(
                        seed=study.seed,
                        pid=participant.prolific_pid,
                        persona_position=persona_position,
                        question_position=position,
                    ),
                    choice=(Choice.CHOSEN if rng.random() < (0.98 if check else 0.65) else Choice.REJECTED),
                    reasoning="check" if check else rng.choice(REASONS).format(n=20 + persona_position % 60),
                    time_ms=rng.randint(2_000, 90_000),
                    revisions=rng.randint(0, 3),
                    pasted=rng.random() < 0.01,
                    updated_at=now,
                )
            )
    Slot.objects.bulk_update([slot for _, slot in taken], ["holder", "status", "reserved_at"], batch_size=2000)
    Answer.objects.bulk_create(answers, batch_size=5000)


def cleanup() -> None:
    Study.objects.filter(name__startswith=TAG).delete()
    PreferencePair.objects.filter(prompt__text__startswith=f"[{TAG}]").delete()
    Prompt.objects.filter(text__startswith=f"[{TAG}]").delete()
    Persona.objects.filter(attributes__ancestry=TAG).delete()


def _body_size(response: object) -> int:
    if getattr(response, "streaming", False):
        return sum(len(piece) for piece in response.streaming_content)  # type: ignore[attr-defined]
    return len(response.content)  # type: ignore[attr-defined]


def _measure(name: str, get: Callable[[], object], *, runs: int = 3) -> Measure:
    """Time ``get`` (best of ``runs``, nothing traced), then one traced run for peak memory and queries."""
    seconds = float("inf")
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        size = _body_size(get())
        seconds = min(seconds, time.perf_counter() - started)
    gc.collect()
    tracemalloc.start()
    try:
        with CaptureQueriesContext(connection) as queries:
            _body_size(get())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Measure(name, seconds, peak / 2**20, len(queries), size)


def study_measure(study: Study, *, runs: int = 3) -> dict[str, Measure]:
    """The coordinator's study page, dashboard partial, participants list and every export, measured."""
    user = UserFactory(groups=["Coordinator"])
    client = Client()
    client.force_login(user)
    detail = reverse("study-detail", args=[study.pk])
    pages: dict[str, Callable[[], object]] = {
        "study page": lambda: client.get(detail),
        "dashboard partial": lambda: client.get(detail, headers={"HX-Request": "true", "HX-Target": "dashboard"}),
        "participants list": lambda: client.get(reverse("study-participants", args=[study.pk])),
    }
    for name in ("answers.csv", "answers.jsonl", "majority.csv"):
        pages[name] = lambda name=name: client.get(reverse("study-export", args=[study.pk, name]))
    try:
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            measures = {name: _measure(name, get, runs=runs) for name, get in pages.items()}
    finally:
        user.delete()
    for measure in measures.values():
        assert measure.size_bytes > 0, measure
    return measures


def _results(small: dict[str, Measure], full: dict[str, Measure], personas: int) -> list[Result]:
    results = []
    scale = f"{personas} personas x {RATERS} x {QUESTIONS}"
    for name in ("study page", "dashboard partial", "participants list"):
        m, s = full[name], small[name]
        results.append(
            Result(
                "study_scale",
                f"{name} ({scale})",
                m.seconds * 1000,
                "ms",
                f"<= {PAGE_TARGET_MS}",
                m.seconds * 1000 <= PAGE_TARGET_MS,
                f"peak {m.peak_mb:.1f} MB; {m.queries} queries (small study: {s.queries})",
            )
        )
        results.append(
            Result(
                "study_scale",
                f"{name}: queries, full ÷ small study",
                m.queries / max(s.queries, 1),
                "x",
                "== 1",
                m.queries == s.queries,
            )
        )
    for name in ("answers.csv", "answers.jsonl", "majority.csv"):
        m, s = full[name], small[name]
        ratio = m.peak_mb / max(s.peak_mb, 1e-6)
        results.append(
            Result(
                "study_scale",
                f"{name} peak memory, full ÷ small study",
                ratio,
                "x",
                f"<= {CONSTANT_MEMORY_RATIO}",
                ratio <= CONSTANT_MEMORY_RATIO,
                f"{m.peak_mb:.1f} MB vs {s.peak_mb:.1f} MB; {m.size_bytes / 2**20:.1f} MB written in {m.seconds:.2f} s",
            )
        )
    return results


def _pages(study_id: int) -> dict[str, dict[str, object]]:
    """``study_measure`` in a process of its own (``perf.paper_study.phase``), as JSON."""
    return {name: asdict(m) for name, m in study_measure(Study.objects.get(pk=study_id)).items()}


def run() -> list[Result]:
    if connection.vendor != "postgresql":
        return [
            Result(
                "study_scale",
                "study pages and exports at paper scale",
                float("nan"),
                "-",
                note="not run: needs PostgreSQL (DATABASE_URL=postgres://… bin/perf study_scale)",
            )
        ]
    studies = paper_studies()
    measured = {
        name: {k: Measure(**m) for k, m in phase(studies.env, __name__, "pages", size["study"]).items()}
        for name, size in (("small", studies.small), ("full", studies.full))
    }
    full = studies.full
    note = (
        f"{full['participants']} participants, {full['answers']} answers, built with the tenth in "
        f"{studies.built_seconds:.0f} s (shared with report_scale)"
    )
    return [
        Result("study_scale", "studies built (bulk path)", studies.built_seconds, "s", note=note),
        *_results(measured["small"], measured["full"], studies.personas),
    ]
