"""The paper-size study the scale benchmarks share (``bin/perf scale``): built once per run, in a scratch database.

``bench_study_scale`` (the coordinator's pages and exports) and ``bench_report_scale`` (the report job, page, table
and figure) measure the same two studies: ``PERF_STUDY_PERSONAS`` (default the paper's 1,586) personas x 4 raters x
10 questions + 1 attention check, and one a tenth of that size, both built by ``bench_study_scale.study_build`` (the
rows the participant pages write, in bulk, against the same constraints), with one judge's replies to every item in
both orders. The scratch database (``PERF_SCALE_DATABASE_URL``, default ``persona_lab_perf_scale`` on the local
PostgreSQL) is recreated by the first benchmark that needs it and reused by the next. Each phase runs in its own
process, as production does (the worker computes, the web process serves), so a peak memory is that phase's own.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perf.bench_annotation import app_env, database_recreate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/persona_lab_perf_scale"
PAPER_PERSONAS = 1586
ANALYST = "perf-analyst"


@dataclass(frozen=True)
class PaperStudies:
    env: dict[str, str]  # the app's environment on the scratch database
    personas: int
    small: dict[str, Any]  # {"study", "participants", "answers", "judgments"}
    full: dict[str, Any]
    built_seconds: float


_built: PaperStudies | None = None


def personas_wanted() -> int:
    return int(os.environ.get("PERF_STUDY_PERSONAS", PAPER_PERSONAS))


def paper_studies() -> PaperStudies:
    """The two studies, built on the first call of this process (``bin/perf``) and shared by the later ones."""
    global _built
    if _built is None:
        database_url = os.environ.get("PERF_SCALE_DATABASE_URL", DEFAULT_DB)
        database_recreate(database_url)
        static_root = tempfile.mkdtemp(prefix="persona-lab-static-")
        atexit.register(shutil.rmtree, static_root, ignore_errors=True)
        env = {
            **app_env(database_url, static_root, redis_url=os.environ.get("CELERY_BROKER_URL")),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
        personas = personas_wanted()
        started = time.perf_counter()
        built = phase(env, "perf.paper_study", "seed", personas)
        seconds = time.perf_counter() - started
        print(f"  built {built} in {seconds:.0f} s", file=sys.stderr, flush=True)
        _built = PaperStudies(env, personas, built["small"], built["full"], seconds)
    return _built


def _seed(personas: int) -> dict[str, Any]:
    """Both studies, their raters and a judge's replies; the analyst who reads the report."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from annotation.models import Answer, Participant
    from core.db_stats import tables_analyze
    from core.roles import ANALYST as ANALYST_GROUP
    from perf.bench_study_scale import study_build

    result = {}
    for name, size in (("small", max(personas // 10, 1)), ("full", personas)):
        study = study_build(personas=size)
        result[name] = {
            "study": study.pk,
            "participants": Participant.objects.filter(study=study).count(),
            "answers": Answer.objects.filter(participant__study=study).count(),
            "judgments": judgments_fill(study_id=study.pk, rng=random.Random(25)),
        }
    from benchmarks.judging.models import Judgment

    tables_analyze(Judgment)
    user = get_user_model().objects.create_user(ANALYST, password="perf-analyst-password-x1")
    user.groups.add(Group.objects.get(name=ANALYST_GROUP))
    return result


def judgments_fill(*, study_id: int, rng: Any) -> int:
    """One offline judge's reply to every pair question of the study in both orders (bulk; 60% agree with the
    first rater), as a judge run stores them."""
    from annotation.models import Question
    from benchmarks.judging.models import DECISIVE, Judgment
    from benchmarks.judging.services import judge_upsert
    from core.llm.endpoints import endpoint_upsert

    endpoint, _ = endpoint_upsert(name="scale-judge-endpoint", provider="offline", model="always_a")
    judge = judge_upsert(name="scale-judge", endpoint=endpoint)
    questions = Question.objects.filter(study_persona__study_id=study_id, kind=Question.Kind.PAIR).values_list(
        "study_persona__persona_id", "pair_id"
    )
    judgments = [
        Judgment(
            judge=judge,
            persona_id=persona_id,
            pair_id=pair_id,
            order=order,
            choice=rng.choice(DECISIVE),
            confidence=rng.randint(1, 100),
        )
        for persona_id, pair_id in questions
        for order in ("AB", "BA")
    ]
    Judgment.objects.bulk_create(judgments, batch_size=5000, ignore_conflicts=True)
    return len(judgments)


def child(module: str, name: str, argument: Any) -> None:
    """Run ``module``'s phase ``name`` in this (fresh) process and print its JSON result."""
    import importlib

    import django

    django.setup()
    work = getattr(importlib.import_module(module), f"_{name}")
    print("RESULT " + json.dumps(work(argument)))


def phase(env: dict[str, str], module: str, name: str, argument: Any) -> dict[str, Any]:
    """``module._<name>(argument)`` in a process of its own on ``env``; its JSON result."""
    code = f"from perf.paper_study import child; child({module!r}, {name!r}, {argument!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode:
        raise RuntimeError(f"{module} {name} failed:\n{done.stderr[:1500]}\n…\n{done.stderr[-1500:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def peak_mb() -> float:
    """This process's own peak RSS (``VmHWM``). Not ``ru_maxrss``: Linux carries that over an exec from the parent,
    so a phase started by ``bin/perf`` after another benchmark read the parent's high-water mark (329 MB, before the
    report job had allocated anything)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
