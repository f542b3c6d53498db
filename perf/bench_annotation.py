"""Participant answer saves under load: gunicorn + PostgreSQL, 200 concurrent simulated participants.

Targets: p99 of the answer save < 200 ms with participants answering at a human pace, and save throughput
at least 0.5 times a trivial Django view (`/healthz`, one SELECT) on the same stack when both are driven flat out.
The database is `PERF_DATABASE_URL` (default: a scratch `persona_lab_perf` on the local PostgreSQL), recreated.

The load comes from `PERF_LOAD_PROCESSES` processes (default 2), each an asyncio client for its share of the
participants (`perf.http_client`). The load generator shares the machine's CPUs with the server: with httpx it took
a quarter of them, so the trivial view measured the client rather than the server and the participants' latency
included the client's queueing. A simulated participant does what a browser does: opens the question's page, then
saves the choice and the explanation (htmx), thinking between saves.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from perf.http_client import HttpClient, Response
from perf.result import Result

ROOT = Path(__file__).resolve().parent.parent
PARTICIPANTS = 200
PERSONAS = 50  # x 4 raters = 200 slots
QUESTIONS = 10
EXPORT_PERSONAS = 100  # x 4 raters: the 400-participant study two coordinators download
THINK_SECONDS = (1.0, 3.0)  # between a participant's saves in the latency run (a person reads and types)
FLAT_OUT_REQUESTS = 4000
FLAT_OUT_ROUNDS = 3  # trivial and save alternate; each figure is the median (one run swings by a fifth here)
LOAD_PROCESSES = int(os.environ.get("PERF_LOAD_PROCESSES", "2"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/persona_lab_perf"

SEED = """
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from personas.models import Persona
people = [Persona.objects.create(attributes={"age": 20 + i, "sex": "Female", "occupation category": "Nurse"})
          for i in range(%(personas)d)]
for i in range(%(questions)d + 2):
    text = f"Should cities ban cars from their centres? ({i})"
    prompt = Prompt.objects.create(text=text, text_sha256=text_digest(text))
    PreferencePair.objects.create(prompt=prompt, chosen="A careful answer " * 20, rejected="A short one " * 10)
config = StudySettings(name="perf", raters_per_persona=4, majority_threshold=3, pairs_per_persona=%(questions)d,
                       attention_checks=0, reasoning_min_chars=5, seed=1)
study = study_transition(study=study_create(config=config, personas=people), action="launch")
print("STUDY", study.public_id)
"""

# The study two coordinators download during the export run: 400 participants who answered everything (100
# personas x 4 raters, 10 pairs and one attention check each, 4400 answers), built with bulk inserts (the saves
# themselves are what the latency runs measure) and a coordinator's session to download it with.
EXPORT_SEED = """
import random
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from annotation.models import Answer, Participant, Question, Slot, SlotStatus, order_for
from annotation.services.slots import participant_enter
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.judging.models import DECISIVE
from personas.models import Persona
from core.roles import COORDINATOR
rng = random.Random(5)
people = [Persona.objects.create(attributes={"age": 30 + i // 4, "sex": "Male", "occupation category": "Teacher"})
          for i in range(%(personas)d)]
config = StudySettings(name="export", raters_per_persona=4, majority_threshold=3, pairs_per_persona=%(questions)d,
                       attention_checks=1, reasoning_min_chars=5, seed=2)
study = study_transition(study=study_create(config=config, personas=people), action="launch")
now = timezone.now()
answers = []
for i in range(4 * %(personas)d):
    participant = participant_enter(study=study, pid=f"exp{i:05d}", study_param="x", session_param=f"e{i}").participant
    persona_position = participant.study_persona.position
    for question in Question.objects.filter(study_persona_id=participant.study_persona_id):
        reasoning = rng.choice(["They would, \\"clearly\\", prefer it.", "Short", "=1+1 is what they'd say",
                                "A longer explanation\\nover two lines, with commas, quotes \\" and ünïcödé."])
        answers.append(Answer(participant=participant, question=question, choice=rng.choice(DECISIVE),
                              order_shown=order_for(seed=study.seed, pid=participant.prolific_pid,
                                                    persona_position=persona_position,
                                                    question_position=question.position),
                              reasoning=reasoning * rng.randint(1, 4), time_ms=rng.randint(1000, 90000),
                              revisions=rng.randint(0, 3), pasted=rng.random() < 0.05, updated_at=now))
Answer.objects.bulk_create(answers, batch_size=2000)
Participant.objects.filter(study=study).update(status=Participant.Status.SUBMITTED, submitted_at=now)
Slot.objects.filter(study=study).update(status=SlotStatus.COMPLETE)
user = get_user_model().objects.create_user("perf-coordinator", password="perf-coordinator-password-x1")
user.groups.add(Group.objects.get(name=COORDINATOR))
session = SessionStore()
session["_auth_user_id"], session["_auth_user_backend"] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print("EXPORT", study.pk, session.session_key)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(
    database_url: str | None = None,
    static_root: str | None = None,
    *,
    redis_url: str | None = "redis://127.0.0.1:6379/2",
) -> dict[str, str]:
    """The app's environment as production sets it (DEBUG off, secret key, hosts), on ``database_url`` and
    ``redis_url`` (None: the embedded default's), nothing inherited from ours but the rest (tests/faults and
    perf/bench_restart.py reuse it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "REDIS"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="perf-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        PARTICIPANT_ENTRIES_PER_MINUTE_PER_IP="100000",  # every simulated participant shares 127.0.0.1
        LOG_LEVEL="WARNING",
    )
    given = {"DJANGO_STATIC_ROOT": static_root, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env.update({name: value for name, value in given.items() if value is not None})
    return env


def database_recreate(database_url: str) -> None:
    """Drop and create the scratch database ``database_url`` names (its connections are ended first)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# Loaded by gunicorn with -c: the app (and its URLconf, which imports the report and plotting code) is imported once
# in the master before the workers fork, so no worker spends its first requests importing. Without it each worker's
# first request imports everything: on a busy machine that exceeds gunicorn's worker timeout (workers are killed and
# restarted in a loop), and otherwise the start-up lands in the measured save latencies.
GUNICORN_CONFIG = """
preload_app = True
timeout = 120


def when_ready(server):
    from django.urls import get_resolver

    get_resolver().url_patterns
"""


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


class ParticipantSession:
    """One simulated participant: its own cookies (set by hand: production cookies are Secure, we speak HTTP).

    The Cookie header is rebuilt only when the server sets a cookie, so a save costs the client what a browser's
    request costs it, not a re-join of every cookie.
    """

    def __init__(self, client: HttpClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.cookie_header = ""

    async def request(self, method: str, url: str, **kwargs: object) -> Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[arg-type]
        if self.cookie_header:
            headers["Cookie"] = self.cookie_header
        response = await self.client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
        set_cookies = response.header_values("set-cookie")
        for header in set_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if set_cookies:
            self.cookie_header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return response


async def _participant(client: HttpClient, study: str, index: int, *, think: bool, saves: list[float]) -> None:
    session = ParticipantSession(client)
    entry = await session.request(
        "GET",
        f"/s/{study}/",
        params={"PROLIFIC_PID": f"perf{index:05d}", "STUDY_ID": "perf", "SESSION_ID": f"s{index}"},
    )
    assert entry.status_code == 302, (entry.status_code, entry.text[:300])
    page = await session.request("GET", f"/s/{study}/q/1/")
    assert page.status_code == 200, page.status_code
    headers = {"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"]}
    for position in range(1, QUESTIONS + 1):
        if position > 1:  # "Save and next" opens the next question's page, as a browser does
            page = await session.request("GET", f"/s/{study}/q/{position}/")
            assert page.status_code == 200, page.status_code
        for data in ({"choice": "A"}, {"choice": "A", "reasoning": f"They would like answer A, {index} {position}."}):
            if think:
                await asyncio.sleep(random.uniform(*THINK_SECONDS))
            started = time.perf_counter()
            response = await session.request("POST", f"/s/{study}/q/{position}/", data=data, headers=headers)
            saves.append(time.perf_counter() - started)
            assert response.status_code == 200, (response.status_code, response.text[:300])


async def _latency_share(base: str, study: str, indices: range) -> list[float]:
    saves: list[float] = []
    client = HttpClient(base)
    await asyncio.gather(*(_participant(client, study, i, think=True, saves=saves) for i in indices))
    return saves


async def _trivial(client: HttpClient, study: str, index: int, state: object) -> object:
    response = await client.request("GET", "/healthz")
    assert response.status_code == 200
    return state


async def _save(client: HttpClient, study: str, index: int, state: object) -> object:
    """Flat out: the participants of the latency run re-save their first answer (still open, so a real save)."""
    if state is None:
        session = ParticipantSession(client)
        # The same Prolific session as in the latency run: a participant is bound to its first SESSION_ID.
        params = {"PROLIFIC_PID": f"perf{index:05d}", "STUDY_ID": "perf", "SESSION_ID": f"s{index}"}
        await session.request("GET", f"/s/{study}/", params=params)
        await session.request("GET", f"/s/{study}/q/1/")
        return session
    session = state  # type: ignore[assignment]
    response = await session.request(
        "POST",
        f"/s/{study}/q/1/",
        data={"choice": "B", "reasoning": f"Changed my mind, {time.perf_counter()}"},
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"]},
    )
    assert response.status_code == 200, response.status_code
    return session


async def _flat_out_share(base: str, study: str, kind: str, indices: range, total: int, barrier: object) -> tuple:
    """This process's clients firing back to back: (start, end, requests) on the shared monotonic clock."""
    make_request = {"trivial": _trivial, "save": _save}[kind]
    client = HttpClient(base)
    remaining = total

    async def worker(index: int, state: object) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            state = await make_request(client, study, index, state)

    # Each client's set-up (for the save: entry and question page) runs before the clock starts, in every
    # process, so the figure is the throughput of the request being compared.
    states = await asyncio.gather(*(make_request(client, study, i, None) for i in indices))
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)  # type: ignore[attr-defined]
    started = time.monotonic()
    await asyncio.gather(*(worker(i, state) for i, state in zip(indices, states, strict=True)))
    return started, time.monotonic(), total


def _load_process(job: tuple, barrier: object, results: object) -> None:
    kind, base, study, indices, total = job
    if kind == "latency":
        results.put(asyncio.run(_latency_share(base, study, indices)))  # type: ignore[attr-defined]
    else:
        results.put(asyncio.run(_flat_out_share(base, study, kind, indices, total, barrier)))  # type: ignore[attr-defined]


def _in_load_processes(kind: str, base: str, study: str, clients: int, total: int) -> list:
    """Split the clients (and the requests) over LOAD_PROCESSES processes; each one's result, in any order."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(LOAD_PROCESSES), context.Queue()
    shares = [range(i, clients, LOAD_PROCESSES) for i in range(LOAD_PROCESSES)]
    processes = [
        context.Process(
            target=_load_process, args=((kind, base, study, share, total // LOAD_PROCESSES), barrier, results)
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a load process failed during the {kind} run (exit code {process.exitcode})")
    return collected


def _flat_out(base: str, study: str, kind: str, clients: int, total: int) -> float:
    """Requests per second with `clients` clients firing back to back, all processes together."""
    shares = _in_load_processes(kind, base, study, clients, total)
    started, ended = min(s[0] for s in shares), max(s[1] for s in shares)
    return sum(s[2] for s in shares) / (ended - started)


@contextmanager
def serve(
    env: dict[str, str], *, workers: int, folder: Path, extra: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The app under gunicorn on a free port (``GUNICORN_CONFIG``, written to ``folder``), once it answers
    /healthz: its base URL and process, stopped (with its workers) on the way out."""
    port = free_port()
    gunicorn_config = folder / "gunicorn.conf.py"
    gunicorn_config.write_text(GUNICORN_CONFIG)
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "-c",
        str(gunicorn_config),
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--log-level",
        "warning",
        *extra,
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # the master imports the whole app before it listens
        while True:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 300 s")
            time.sleep(0.5)
        yield base, server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


class _Exports:
    """Two coordinators downloading the export study's answers.csv and answers.jsonl back to back (in a thread of
    this process, which only waits while the load processes run), until stopped: each download's seconds."""

    def __init__(self, base: str, study_pk: int, session_key: str) -> None:
        self.base, self.study_pk, self.session_key = base, study_pk, session_key
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._download_loops()), daemon=True)

    async def _download_loops(self) -> None:
        client = HttpClient(self.base, timeout=300)

        async def coordinator(names: tuple[str, str]) -> None:
            while not self._stop.is_set():
                for name in names:
                    started = time.perf_counter()
                    url = f"/studies/{self.study_pk}/export/{name}"
                    response = await client.request("GET", url, headers={"Cookie": f"sessionid={self.session_key}"})
                    assert response.status_code == 200, (name, response.status_code, response.text[:300])
                    self.seconds.append(time.perf_counter() - started)

        await asyncio.gather(
            coordinator(("answers.csv", "answers.jsonl")), coordinator(("answers.jsonl", "answers.csv"))
        )

    def __enter__(self) -> _Exports:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=300)


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(0.99 * (len(ordered) - 1))]


def run() -> list[Result]:
    database_url = os.environ.get("PERF_DATABASE_URL", DEFAULT_DB)
    database_recreate(database_url)
    static_root = tempfile.mkdtemp(prefix="persona-lab-static-")
    env = app_env(database_url, static_root)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    study = manage(env, "shell", "-c", SEED % {"personas": PERSONAS, "questions": QUESTIONS}).split("STUDY ")[1].strip()
    export_seed = EXPORT_SEED % {"personas": EXPORT_PERSONAS, "questions": QUESTIONS}
    export_pk, export_session = manage(env, "shell", "-c", export_seed).split("EXPORT ")[1].split()
    workers = int(os.environ.get("PERF_GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1))
    with serve(env, workers=workers, folder=Path(static_root)) as (base, _server):
        saves = [latency for share in _in_load_processes("latency", base, study, PARTICIPANTS, 0) for latency in share]
        p50, p99 = statistics.median(saves), _p99(saves)
        # The same participants again (their answers are still open, so these are real saves), while two
        # coordinators download the export study's answers back to back.
        with _Exports(base, int(export_pk), export_session) as exports:
            loaded = [s for share in _in_load_processes("latency", base, study, PARTICIPANTS, 0) for s in share]
        loaded_p50, loaded_p99 = statistics.median(loaded), _p99(loaded)
        concurrency = PARTICIPANTS
        rounds = [
            (
                _flat_out(base, study, "trivial", concurrency, FLAT_OUT_REQUESTS),
                _flat_out(base, study, "save", concurrency, FLAT_OUT_REQUESTS),
            )
            for _ in range(FLAT_OUT_ROUNDS)
        ]
        trivial_rps = statistics.median(trivial for trivial, _save in rounds)
        save_rps = statistics.median(save for _trivial, save in rounds)
        ratios = sorted(save / trivial for trivial, save in rounds)
    note = (
        f"gunicorn -w {workers} + PostgreSQL; {PARTICIPANTS} participants, {len(saves)} saves, think {THINK_SECONDS} s"
    )
    load = f"{concurrency} clients in {LOAD_PROCESSES} processes, median of {FLAT_OUT_ROUNDS} rounds"
    export_note = (
        f"{len(exports.seconds)} downloads of a {4 * EXPORT_PERSONAS}-participant study's answers.csv/.jsonl, "
        f"median {statistics.median(exports.seconds):.2f} s; saves p50 {loaded_p50 * 1000:.0f} ms, "
        f"p99 {loaded_p99 * 1000:.0f} ms vs quiet {p50 * 1000:.0f} / {p99 * 1000:.0f} ms"
    )
    export_ratio = loaded_p99 / p99
    return [
        Result("annotation", "answer save p50", p50 * 1000, "ms", note=note),
        Result("annotation", "answer save p99", p99 * 1000, "ms", "< 200", p99 < 0.2, note=note),
        Result("annotation", "trivial view flat out", trivial_rps, "req/s", note=f"{load}, /healthz"),
        Result("annotation", "answer save flat out", save_rps, "req/s", note=load),
        Result(
            "annotation",
            "save ÷ trivial throughput",
            statistics.median(ratios),
            "x",
            ">= 0.5",
            statistics.median(ratios) >= 0.5,
            note=f"median of the rounds' ratios; each round {', '.join(f'{ratio:.2f}' for ratio in ratios)}",
        ),
        Result(
            "annotation",
            "save p99 with two concurrent exports ÷ quiet",
            export_ratio,
            "x",
            "<= 2",
            export_ratio <= 2,
            note=export_note,
        ),
    ]
