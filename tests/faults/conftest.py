"""The fault suite's harness: PostgreSQL and Redis of its own, the app under gunicorn, a Celery worker with beat.

Session fixtures build the services once (about 20 s: initdb, migrate, collectstatic, a seeded study); a scenario
breaks them (stop, restart, flush) and leaves them running again. Everything is removed on the way out, a failed
test or an interrupted run too. The app runs as production does (DEBUG off, gunicorn, ``perf.bench_annotation``'s
environment and start-up), pointed at the harness's services, never at the PostgreSQL or Redis of the rest of CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from perf.bench_annotation import ROOT, SEED, app_env, free_port, manage, serve
from tests.faults.services import PostgresCluster, RedisServer, postgres_bin, redis_bin

PARTICIPANTS = 64  # the seeded study: 16 personas x 4 raters (each scenario enters its own)
QUESTIONS = 5
# The cluster's max_connections: the web workers and the Celery worker (threads, beat, heartbeats) hold ~10.
MAX_CONNECTIONS = int(os.environ.get("FAULTS_PG_MAX_CONNECTIONS", "40"))
WEB_WORKERS = 3
JOB_STALL_SECONDS = 6  # a dead worker's job is taken over after this (production: 45 s)


@pytest.fixture(scope="session")
def fault_binaries() -> None:
    if postgres_bin() is None:
        pytest.skip("needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin: apt-get install postgresql)")
    if redis_bin() is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")


@pytest.fixture(scope="session")
def pg(fault_binaries: None) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of the suite's own, on a free port."""
    cluster = PostgresCluster(port=free_port(), max_connections=MAX_CONNECTIONS)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def redis_server(fault_binaries: None) -> Iterator[RedisServer]:
    server = RedisServer(Path(tempfile.mkdtemp(prefix="persona-lab-faults-redis-")), port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.remove()


@dataclass
class App:
    """The app's environment (database, broker, cache on the harness's services), its folder and seeded study."""

    env: dict[str, str]
    folder: Path
    study: str  # public id
    database_url: str

    def shell(self, code: str) -> str:
        """Run ``code`` in ``manage.py shell`` with the app's environment (and the suite's job kind loaded)."""
        return manage(self.env, "shell", "-c", "import tests.faults.job_kinds\n" + code)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def app(pg: PostgresCluster, redis_server: RedisServer) -> Iterator[App]:
    folder = Path(tempfile.mkdtemp(prefix="persona-lab-faults-app-"))
    try:
        database_url = pg.create_database("app")
        env = app_env(database_url, str(folder / "static"), redis_url=redis_server.url(1))
        env.update(
            CELERY_BROKER_URL=redis_server.url(0),
            PERSONA_LAB_DATA_DIR=str(folder / "data"),
            JOB_STALL_SECONDS=str(JOB_STALL_SECONDS),
            # A lost message is sent again by beat's sweep (every 15 s) once the job waited this long unclaimed.
            JOB_RESEND_AFTER_SECONDS="10",
            FAULTS_JOURNAL=str(folder / "journal.txt"),
        )
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        study = manage(env, "shell", "-c", SEED % {"personas": PARTICIPANTS // 4, "questions": QUESTIONS})
        yield App(env=env, folder=folder, study=study.split("STUDY ")[1].strip(), database_url=database_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Web:
    base: str
    server: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def web(app: App) -> Iterator[Web]:
    """The app under gunicorn (sync workers, as bin/perf serves it)."""
    with serve(app.env, workers=WEB_WORKERS, folder=app.folder) as (base, server):
        yield Web(base, server)


class Worker:
    """A Celery worker (threads, embedded beat) in a process group of its own, on the harness's broker."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "-B",
            "--pool=threads",
            "--concurrency=2",
            "--include",
            "tests.faults.job_kinds",
            "-s",
            str(self.app.folder / "celerybeat-schedule"),
            "--loglevel",
            "INFO",
        ]
        log = (self.app.folder / "worker.log").open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.app.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def terminate(self, *, timeout: float = 60) -> int:
        """SIGTERM, as systemd or Kubernetes stop a worker: a warm shutdown (running tasks finish first)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def worker(app: App) -> Iterator[Worker]:
    celery = Worker(app)
    celery.start()
    try:
        yield celery
    finally:
        celery.stop()
        # Shown by pytest when the scenario failed (captured output), with the gunicorn log printed to stderr.
        log = app.folder / "worker.log"
        print("--- Celery worker log (last 60 lines) ---", *log.read_text().splitlines()[-60:], sep="\n")


@pytest.fixture(autouse=True)
def services_back(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a scenario broke is running again for the next one (a failed scenario too)."""
    yield
    if "pg" in request.fixturenames:
        cluster: PostgresCluster = request.getfixturevalue("pg")
        if not cluster.is_running() or cluster.max_connections != MAX_CONNECTIONS:
            cluster.restart(max_connections=MAX_CONNECTIONS)
    if "redis_server" in request.fixturenames:
        server: RedisServer = request.getfixturevalue("redis_server")
        if not server.ping():
            server.start()


def wait_for(predicate: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)
