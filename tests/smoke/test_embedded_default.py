"""Boot the app exactly as the README's first command does (bin/demo) and drive it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.smoke


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The environment of a newcomer's shell: no database or broker servers configured."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env["PERSONA_LAB_DATA_DIR"] = str(data_dir)
    return env


class DemoProcess:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.log = tmp_path / "demo.log"
        self.data_dir = tmp_path / "data"
        # The local model (when its group is installed) has tests of its own; here it would only take the CPU.
        env = {**embedded_env(self.data_dir), "PERSONA_LAB_PORT": str(self.port), "PERSONA_LAB_DEMO_MODEL": "0"}
        self.process = subprocess.Popen(
            [str(ROOT / "bin" / "demo")],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bin/demo exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"bin/demo did not serve within {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path)
    try:
        process.wait_until_up()
        yield process
    finally:
        process.stop()


def login(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert response.status_code == 302, response.text[:500]
    return client


def test_embedded_default_serves_logs_in_and_runs_a_job(demo):
    accounts = dict(re.findall(r"demo-account\s+\S+\s+(\S+) / (\S+)", demo.output()))
    assert set(accounts) == {"admin", "coordinator", "analyst"}, demo.output()

    client = login(demo.base, "coordinator", accounts["coordinator"])
    assert "Jobs" in client.get("/").text
    response = client.post(
        "/jobs/start/",
        data={"kind": "core.recompute_statistics", "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": f"{demo.base}/jobs/"},
    )
    assert response.status_code == 302

    deadline = time.monotonic() + 60
    job = None
    while time.monotonic() < deadline:
        job = client.get("/api/jobs/").json()["results"][0]
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert job is not None
    assert job["status"] == "succeeded", (job, demo.output()[-3000:])
    assert job["done"] == job["total"] > 0
    assert "Database statistics" in client.get("/").text

    # The accounts were printed once: a second setup run does not print passwords again.
    second = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "demo_setup"],
        cwd=ROOT,
        env=embedded_env(demo.data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "demo-account" not in second.stdout
    assert "already exist" in second.stdout
