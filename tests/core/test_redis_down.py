"""Redis stopped in the middle of a study: participants keep entering and saving (sessions come from the database, the
save limiter lets them through), a login is refused with a page that says why (not a 500, not unthrottled), and the
jobs page says the queue is unreachable while a job started meanwhile waits as queued.

The app runs in its own process configured as in production (``REDIS_URL``/``CELERY_BROKER_URL``, so its cache,
sessions, login throttle and broker are all Redis) against a redis-server this module starts and stops on a spare
port: never the shared one. The database is the test database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import connection

from annotation.models import Answer, Participant
from core.models import Job, JobStatus
from tests.annotation.factories import study_make
from tests.factories import TEST_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.usefixtures("transactional_db"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server (apt-get install redis)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(ready: Callable[[], bool], what: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"{what} exited early")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come up in {timeout}s")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """A throwaway redis-server (no persistence) that the test can stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _listening(self.port), "redis-server", self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    @contextmanager
    def down(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_url(
    redis_server: RedisServer, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = _free_port()
    redis_url = f"redis://127.0.0.1:{redis_server.port}/0"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))}
    env.update(
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=redis_url,
        REDIS_URL=redis_url,
        PERSONA_LAB_DATA_DIR=str(tmp_path_factory.mktemp("app-data")),
    )
    log = tmp_path_factory.mktemp("app-log") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(lambda: _listening(port), f"the app server ({log.read_text()})", server)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def _client(app_url: str) -> httpx.Client:
    return httpx.Client(base_url=app_url, timeout=30, follow_redirects=True)


def _csrf(client: httpx.Client, page: str) -> str:
    client.get(page).raise_for_status()
    return client.cookies["csrftoken"]


def _save(client: httpx.Client, study: object, position: int, reasoning: str) -> httpx.Response:
    url = f"/s/{study.public_id}/q/{position}/"
    token = _csrf(client, url)
    return client.post(
        url,
        data={"choice": "A", "reasoning": reasoning, "elapsed_ms": "1000"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )


def _enter(client: httpx.Client, study: object, pid: str) -> httpx.Response:
    return client.get(f"/s/{study.public_id}/", params={"PROLIFIC_PID": pid, "STUDY_ID": "PS1", "SESSION_ID": pid})


def _log_in(client: httpx.Client, username: str) -> httpx.Response:
    token = _csrf(client, "/accounts/login/")
    return client.post(
        "/accounts/login/", data={"username": username, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token}
    )


def test_participants_keep_entering_and_saving(app_url: str, redis_server: RedisServer) -> None:
    study = study_make(personas=1, k=3, n=2, checks=0)
    early = _client(app_url)
    assert _enter(early, study, "early1").status_code == 200  # Redis up: the session is cached there
    assert "Saved." in _save(early, study, 1, "Saved while Redis was up").text
    with redis_server.down():
        # The session cached in Redis is read from the database now.
        response = _save(early, study, 1, "Saved while Redis was down")
        assert response.status_code == 200
        assert "Saved." in response.text
        # Save and next (the plain form) goes on to the next question.
        token = early.cookies["csrftoken"]
        response = early.post(
            f"/s/{study.public_id}/q/1/",
            data={"choice": "B", "reasoning": "Next while Redis was down", "go": "next", "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 200
        assert str(response.url).endswith(f"/s/{study.public_id}/q/2/")
        # A new participant enters (the entry limiter lets them through; the rotated session goes to the database).
        late = _client(app_url)
        response = _enter(late, study, "late1")
        assert response.status_code == 200
        assert str(response.url).endswith("/instructions/")
        for _ in range(3):
            assert "Saved." in _save(late, study, 1, "Entered while Redis was down").text
    stored = dict(Answer.objects.filter(question__position=1).values_list("participant__prolific_pid", "reasoning"))
    assert stored == {"early1": "Next while Redis was down", "late1": "Entered while Redis was down"}
    assert Participant.objects.count() == 2
    # Redis back: the early participant's session still works.
    assert "Saved." in _save(early, study, 2, "Saved after Redis came back").text


def test_a_login_is_refused_with_a_page_that_says_why(app_url: str, redis_server: RedisServer) -> None:
    user = UserFactory()
    with redis_server.down():
        response = _log_in(_client(app_url), user.username)
        assert response.status_code == 503
        assert "Logins are paused" in response.text
        assert "cannot be reached" in response.text
    client = _client(app_url)
    response = _log_in(client, user.username)  # back up: logins work again
    assert response.status_code == 200
    assert str(response.url) == f"{app_url}/"


def test_the_jobs_page_says_the_queue_is_unreachable(app_url: str, redis_server: RedisServer) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = _client(app_url)
    _log_in(client, admin.username)
    assert "job queue cannot be reached" not in client.get("/jobs/").text
    with redis_server.down():
        page = client.get("/jobs/")
        assert page.status_code == 200  # the coordinator's session comes from the database
        assert "The job queue cannot be reached" in page.text
        token = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
        response = client.post("/jobs/start/", data={"kind": "core.recompute_statistics", "csrfmiddlewaretoken": token})
        assert response.status_code == 200
        started = r"Recompute statistics #\d+ is saved as queued, but the job queue cannot be reached"
        assert re.search(started, response.text)
        assert "The job queue cannot be reached" in response.text
        job = Job.objects.get(kind="core.recompute_statistics")
        assert job.status == JobStatus.QUEUED  # kept for the sweep to send once Redis is back
    assert "job queue cannot be reached" not in client.get("/jobs/").text
