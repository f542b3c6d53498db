"""The study report at scale on PostgreSQL: a paper-size study (1,586 personas x 4 raters x 10 questions by default,
``PERF_REPORT_PERSONAS`` to change it) with simulated answers and one judge, then the report job's time and peak
memory, the report page, one table's CSV download and one figure — each beside its target.

Targets: the report job ≤ 300 MB peak (the worker reached 1.14 GB at 1,586 personas when every rater had a list as long
as the study); a table download ≤ 100 ms (it was 0.48 s: every request hashed every answer and loaded the whole
stored report); the report page and a figure ≤ 300 ms once computed (a figure drawn once, then from the cache).

The study is built with bulk inserts that respect the same constraints as the services (a submitted participant holds
a complete slot of their persona; one answer per question), in a scratch database (``PERF_REPORT_DATABASE_URL``,
default ``persona_lab_perf_report`` on the local PostgreSQL, recreated). Each phase runs in its own process, as
production does (the worker computes, the web process serves), so a peak RSS is that phase's own. On SQLite nothing is
measured: the rows say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perf.bench_annotation import app_env
from perf.result import Result

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = int(os.environ.get("PERF_REPORT_PERSONAS", "1586"))
RATERS = 4
QUESTIONS = 10
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/persona_lab_perf_report"
NAME = "report_scale"
PEAK_MB_TARGET = 300.0
TABLE_MS_TARGET = 100.0
PAGE_MS_TARGET = 300.0


def _seed(personas: int) -> dict[str, object]:
    """The study, its counted raters and their answers, and one judge's replies in both orders (bulk inserts)."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from annotation.models import Answer, Participant, Question, Slot, SlotStatus, order_for
    from annotation.services.study import StudySettings, study_create, study_transition
    from benchmarks.judging.models import DECISIVE, Judgment
    from benchmarks.judging.services import judge_upsert
    from benchmarks.pairs.models import PreferencePair
    from benchmarks.prompts.models import Prompt, text_digest
    from core.db_stats import tables_analyze
    from core.llm.endpoints import endpoint_upsert
    from core.roles import ANALYST
    from personas.models import Persona

    rng = random.Random(25)
    people = Persona.objects.bulk_create(
        [
            Persona(attributes={"age": 20 + i % 60, "sex": "Female", "occupation category": "Nurse"})
            for i in range(personas)
        ]
    )
    for i in range(QUESTIONS + 2):
        text = f"Should cities ban cars from their centres? ({i})"
        prompt = Prompt.objects.create(text=text, text_sha256=text_digest(text))
        PreferencePair.objects.create(prompt=prompt, chosen="A careful answer " * 20, rejected="A short one " * 10)
    config = StudySettings(
        name="report-scale",
        raters_per_persona=RATERS,
        majority_threshold=3,
        pairs_per_persona=QUESTIONS,
        attention_checks=0,
        reasoning_min_chars=5,
        seed=1,
    )
    study = study_transition(study=study_create(config=config, personas=people), action="launch")
    now = timezone.now()
    slots = list(Slot.objects.filter(study=study).order_by("study_persona__position", "index"))
    participants = Participant.objects.bulk_create(
        [
            Participant(
                study=study,
                prolific_pid=f"p{i:06d}",
                study_persona_id=slot.study_persona_id,
                status=Participant.Status.SUBMITTED,
                started_at=now,
                submitted_at=now,
            )
            for i, slot in enumerate(slots)
        ],
        batch_size=2000,
    )
    for slot, participant in zip(slots, participants, strict=True):
        slot.status, slot.holder = SlotStatus.COMPLETE, participant
    Slot.objects.bulk_update(slots, ["status", "holder"], batch_size=2000)
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(study_persona__study=study).select_related("study_persona"):
        questions.setdefault(question.study_persona_id, []).append(question)
    truth = {q.pk: rng.choice(DECISIVE) for qs in questions.values() for q in qs}
    answers = []
    for participant in participants:
        for question in questions[participant.study_persona_id]:
            choice = truth[question.pk] if rng.random() < 0.7 else rng.choice(DECISIVE)
            order = order_for(
                seed=study.seed,
                pid=participant.prolific_pid,
                persona_position=question.study_persona.position,
                question_position=question.position,
            )
            answers.append(
                Answer(
                    participant=participant,
                    question=question,
                    choice=choice,
                    order_shown=order,
                    reasoning="Because it fits them.",
                    time_ms=20000,
                    updated_at=now,
                )
            )
    Answer.objects.bulk_create(answers, batch_size=5000)
    endpoint, _ = endpoint_upsert(name="scale-judge-endpoint", provider="offline", model="always_a")
    judge = judge_upsert(name="scale-judge", endpoint=endpoint)
    judgments = [
        Judgment(
            judge=judge,
            persona_id=q.study_persona.persona_id,
            pair_id=q.pair_id,
            order=order,
            choice=truth[q.pk] if rng.random() < 0.6 else rng.choice(DECISIVE),
            confidence=rng.randint(1, 100),
        )
        for qs in questions.values()
        for q in qs
        for order in ("AB", "BA")
    ]
    Judgment.objects.bulk_create(judgments, batch_size=5000)
    tables_analyze(Participant, Answer, Slot, Judgment)
    user = get_user_model().objects.create_user("perf-analyst", password="perf-analyst-password-x1")
    user.groups.add(Group.objects.get(name=ANALYST))
    return {"study": study.pk, "participants": len(participants), "answers": len(answers), "judgments": len(judgments)}


def _peak_mb() -> float:
    """This process's own peak RSS (``VmHWM``). Not ``ru_maxrss``: Linux carries that over an exec from the parent,
    so a phase started by ``bin/perf`` after another benchmark read the parent's high-water mark (329 MB, before the
    report job had allocated anything)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _report(study_id: int) -> dict[str, object]:
    """The report job's work, in a process of its own (a worker's)."""
    from annotation.models import Study
    from annotation.reports.services import report_refresh

    study = Study.objects.get(pk=study_id)
    before = _peak_mb()
    started = time.perf_counter()
    report_refresh(study=study)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "before_mb": before}


def _serve(study_id: int) -> dict[str, object]:
    """The web side after the report is computed: the page, one table download, one figure (cold, then cached)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="perf-analyst"))

    def timed(url: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        response = client.get(url)
        return (time.perf_counter() - started) * 1000, response.status_code, len(response.content)

    page = reverse("study-report", args=[study_id])
    table = reverse("study-report-table", args=[study_id, "judges", "csv"])
    figure = reverse("study-report-figure", args=[study_id, "persona-kappa", "png"])
    timed(page)  # warm-up: templates, URL resolver
    result: dict[str, object] = {"page": min(timed(page) for _ in range(3))}
    result["table"] = min(timed(table) for _ in range(5))
    result["figure_cold"] = timed(figure)
    result["figure"] = min(timed(figure) for _ in range(3))
    return result


def _child(phase: str, argument: int) -> None:
    import django

    django.setup()
    work = {"seed": _seed, "report": _report, "serve": _serve}[phase]
    print("RESULT " + json.dumps(work(argument)))


def _phase(env: dict[str, str], phase: str, argument: int) -> dict[str, object]:
    code = f"from perf.bench_report_scale import _child; _child({phase!r}, {argument})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode:
        raise RuntimeError(f"{phase} failed:\n{done.stderr[:1500]}\n…\n{done.stderr[-1500:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _recreate(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def run() -> list[Result]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return [
            Result(
                NAME,
                "report job peak memory",
                0,
                "MB",
                f"<= {PEAK_MB_TARGET:.0f}",
                None,
                "skipped: needs PostgreSQL (set DATABASE_URL)",
            )
        ]
    database_url = os.environ.get("PERF_REPORT_DATABASE_URL", DEFAULT_DB)
    _recreate(database_url)
    with tempfile.TemporaryDirectory(prefix="persona-lab-static-") as static_root:
        env = {
            **app_env(database_url, static_root, redis_url=os.environ.get("CELERY_BROKER_URL")),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        size = _phase(env, "seed", PERSONAS)
        seeded = time.perf_counter() - started
        print(f"  seeded {size} in {seeded:.0f} s", file=sys.stderr, flush=True)
        study = int(size["study"])  # type: ignore[call-overload]
        report = _phase(env, "report", study)
        print(f"  report {report}", file=sys.stderr, flush=True)
        served = _phase(env, "serve", study)
    at = (
        f"measured at {PERSONAS} personas x {RATERS} raters x {QUESTIONS} questions: {size['participants']} "
        f"participants, {size['answers']} answers, {size['judgments']} judgments (seeded in {seeded:.0f} s)"
    )
    page_ms, page_status, _ = served["page"]  # type: ignore[misc]
    table_ms, table_status, table_bytes = served["table"]  # type: ignore[misc]
    cold_ms, _, _ = served["figure_cold"]  # type: ignore[misc]
    figure_ms, figure_status, _ = served["figure"]  # type: ignore[misc]
    peak = float(report["peak_mb"])  # type: ignore[arg-type]
    return [
        Result(NAME, "report job time", float(report["seconds"]), "s", "", None, at),  # type: ignore[arg-type]
        Result(
            NAME,
            "report job peak memory (process RSS)",
            peak,
            "MB",
            f"<= {PEAK_MB_TARGET:.0f}",
            peak <= PEAK_MB_TARGET,
            f"{report['before_mb']:.0f} MB before the report (Django + libraries)",
        ),
        Result(
            NAME,
            "report page",
            page_ms,
            "ms",
            f"<= {PAGE_MS_TARGET:.0f}",
            page_status == 200 and page_ms <= PAGE_MS_TARGET,
            f"HTTP {page_status}",
        ),
        Result(
            NAME,
            "one table CSV download",
            table_ms,
            "ms",
            f"<= {TABLE_MS_TARGET:.0f}",
            table_status == 200 and table_ms <= TABLE_MS_TARGET,
            f"HTTP {table_status}, {table_bytes} bytes",
        ),
        Result(
            NAME,
            "one figure (cached)",
            figure_ms,
            "ms",
            f"<= {PAGE_MS_TARGET:.0f}",
            figure_status == 200 and figure_ms <= PAGE_MS_TARGET,
            f"first request (drawn) {cold_ms:.0f} ms",
        ),
    ]
