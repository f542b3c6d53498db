"""Restarting gunicorn for a new release under load: requests lost, and the longest a request waited meanwhile.

Targets: ``bin/web-upgrade`` (USR2 + TERM to the old master, README "Operating it") loses no request and
no request waits a second or more. For contrast, a SIGHUP of the same server (``preload_app`` on), which the
incident measured as a stall of about 4 s, and the same load with no restart, so the figures can be read against
the machine's own noise.

The server is the production configuration (config/gunicorn.conf.py) on a scratch SQLite file; the load is
``CLIENTS`` asyncio clients asking ``/healthz`` (one query) back to back, from a process of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from perf.bench_annotation import app_env
from perf.http_client import HttpClient
from perf.result import Result

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
SETTLE_SECONDS = 3.0  # load before and after each restart
WORKERS = int(os.environ.get("PERF_GUNICORN_WORKERS", "3"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _drive(port: int, stop: object, results: object) -> None:
    client = HttpClient(f"http://127.0.0.1:{port}", timeout=60)
    samples: list[tuple[float, float, bool]] = []

    async def one_client() -> None:
        while not stop.is_set():  # type: ignore[attr-defined]
            started = time.monotonic()
            try:
                ok = (await client.request("GET", "/healthz")).status_code == 200
            except (TimeoutError, OSError, ValueError, IndexError):
                ok = False
            samples.append((started, time.monotonic(), ok))

    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    results.put(samples)  # type: ignore[attr-defined]


def _load_process(port: int, stop: object, results: object) -> None:
    asyncio.run(_drive(port, stop, results))


def _children(pid: int) -> set[int]:
    output = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(line) for line in output.split()}


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _window(samples: list[tuple[float, float, bool]], start: float, end: float) -> tuple[int, int, float]:
    """Requests that overlapped [start, end]: how many, how many failed, the longest one in seconds."""
    inside = [s for s in samples if s[1] >= start and s[0] <= end]
    return len(inside), sum(1 for s in inside if not s[2]), max((s[1] - s[0] for s in inside), default=0.0)


def run() -> list[Result]:
    data_dir = tempfile.mkdtemp(prefix="persona-lab-restart-")
    pidfile = Path(data_dir) / "gunicorn.pid"
    port = _free_port()
    env = app_env(redis_url=None)  # production's settings on the embedded default: no server to set up
    env.update(
        PERSONA_LAB_DATA_DIR=data_dir,
        GUNICORN_PIDFILE=str(pidfile),
        WEB_CONCURRENCY=str(WORKERS),
        WEB_UPGRADE_TIMEOUT="600",
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-c",
            "config/gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    load = None
    marks: dict[str, tuple[float, float]] = {}
    try:
        _wait(lambda: pidfile.exists() and len(_children(server.pid)) >= WORKERS, 300, "gunicorn to start")
        time.sleep(2)  # the workers are forked; let them take their first requests
        load = context.Process(target=_load_process, args=(port, stop, results))
        load.start()
        time.sleep(SETTLE_SECONDS)
        started = time.monotonic()
        time.sleep(SETTLE_SECONDS)
        marks["none"] = (started, time.monotonic())

        started = time.monotonic()
        subprocess.run([str(ROOT / "bin/web-upgrade")], cwd=ROOT, env=env, check=True, capture_output=True)
        marks["upgrade"] = (started, time.monotonic())
        time.sleep(SETTLE_SECONDS)

        master = int(pidfile.read_text())
        old_workers = _children(master)
        started = time.monotonic()
        os.kill(master, signal.SIGHUP)
        _wait(lambda: not (_children(master) & old_workers) and len(_children(master)) >= WORKERS, 300, "SIGHUP")
        marks["hup"] = (started, time.monotonic())
        time.sleep(SETTLE_SECONDS)
        stop.set()
        samples = results.get(timeout=120)
        load.join(timeout=60)
    finally:
        stop.set()
        if load is not None and load.is_alive():
            load.terminate()
        for pid in {server.pid, *([int(pidfile.read_text())] if pidfile.exists() else [])}:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGTERM)
        server.wait(timeout=60)

    rows = []
    note = f"gunicorn -w {WORKERS} (config/gunicorn.conf.py), {CLIENTS} clients on /healthz"
    for key, label in (("none", "no restart"), ("upgrade", "bin/web-upgrade"), ("hup", "SIGHUP (preload_app)")):
        start, end = marks[key]
        count, failed, longest = _window(samples, start, end)
        window = f"{end - start:.1f} s window, {count} requests"
        if key == "upgrade":
            rows.append(Result("restart", f"{label}: requests lost", failed, "req", "= 0", failed == 0, window))
            rows.append(
                Result("restart", f"{label}: longest request", longest * 1000, "ms", "< 1000", longest < 1.0, note)
            )
        else:
            rows.append(Result("restart", f"{label}: requests lost", failed, "req", note=window))
            rows.append(Result("restart", f"{label}: longest request", longest * 1000, "ms", note=note))
    return rows
