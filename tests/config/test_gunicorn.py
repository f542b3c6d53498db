"""The production start: gunicorn with config/gunicorn.conf.py preloads the app before forking its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_preloads_and_serves(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["PERSONA_LAB_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-c",
            "config/gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--print-config",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = server.communicate(timeout=60)
    assert any(line.split() == ["preload_app", "=", "True"] for line in output.splitlines()), output
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-c",
            "config/gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
                    assert response.status == 200
                    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
        return response.status


def test_web_upgrade_puts_a_new_master_in_place_and_loses_no_request(tmp_path):
    """bin/web-upgrade (USR2, then TERM to the old master) while clients keep asking: every request is answered."""
    port, pidfile = _free_port(), tmp_path / "gunicorn.pid"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(PERSONA_LAB_DATA_DIR=str(tmp_path), GUNICORN_PIDFILE=str(pidfile), WEB_CONCURRENCY="2")
    env["WEB_UPGRADE_TIMEOUT"] = "600"  # a loaded test machine imports slowly
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    new_master = 0
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                assert _healthz(port) == 200
                break
            except OSError:
                assert time.monotonic() < deadline
                assert server.poll() is None
                time.sleep(0.3)
        old_master = int(pidfile.read_text())
        assert old_master == server.pid

        statuses: list[int] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                try:
                    statuses.append(_healthz(port))
                except BaseException as error:  # a refused or reset connection is a lost request
                    errors.append(error)

        clients = [threading.Thread(target=client) for _ in range(4)]
        for thread in clients:
            thread.start()
        try:
            upgrade = subprocess.run(
                [str(ROOT / "bin/web-upgrade")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
            )
            new_master = int(pidfile.read_text())
            answered_by_the_old = len(statuses)
            server.wait(timeout=60)  # the old master is gone ...
            deadline = time.monotonic() + 30
            while len(statuses) < answered_by_the_old + 20 and time.monotonic() < deadline:
                time.sleep(0.05)  # ... and the new one answers
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        assert new_master != old_master
        assert errors == []
        assert len(statuses) >= answered_by_the_old + 20
        assert set(statuses) == {200}
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if new_master:
            os.kill(new_master, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(new_master, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
