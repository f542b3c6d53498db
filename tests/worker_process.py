"""A real Celery worker in its own process, for the tests that kill one with SIGKILL in the middle of a job."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent


def worker_queue(monkeypatch: pytest.MonkeyPatch) -> str:
    """Send this test's jobs to a queue of its own: a worker started in this test process by another test (the
    session's in-process worker) must not take them."""
    queue = f"kill-{uuid.uuid4().hex[:12]}"
    # Celery caches its queues and default queue on first use. Build them from the real default before the patch:
    # built under it, they would keep this queue for the rest of the session and a later test's jobs would wait on
    # a queue no worker reads. Routing reads the setting each time, so this test's jobs still go to its queue.
    app.amqp.queues  # noqa: B018
    app.amqp.default_queue  # noqa: B018
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    return queue


def database_url() -> str:
    """The test database, for a process started outside pytest."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker_process(
    queue: str, *, key_env: str = "UNUSED_API_KEY", broker_url: str | None = None, include: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker (one thread) on ``queue`` and the test database, with a fake API key in ``key_env``, in a
    process group of its own so a kill takes its threads with it. Stopped on the way out if still alive (killed
    when the test failed inside). ``broker_url`` replaces the configured broker; ``include`` names more modules
    for the worker to import (a test's own job kinds)."""
    # Jobs the worker starts itself (a stage's shards) go to the queue it reads, like the test's own.
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        key_env: "sk-test-not-a-real-key",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    if broker_url is not None:
        env["CELERY_BROKER_URL"] = broker_url
    extra = ["--include", ",".join(include)] if include else []
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool=threads",
            "--concurrency=1",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield worker
    except BaseException:
        if worker.poll() is None:
            worker_kill(worker)
        raise
    else:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)


def worker_kill(worker: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as the OOM killer or a lost host would: the worker dies without a word, its job left running."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")
