"""Throwaway services the fault suite breaks on purpose: a PostgreSQL cluster and a redis-server of its own.

Each runs from a temporary folder on a free port, never the PostgreSQL or Redis the rest of the suite (or anyone
else on the machine) uses, and is stopped and removed on the way out, failure or not. PostgreSQL is made with
``initdb`` + ``pg_ctl`` from Debian's /usr/lib/postgresql/<version>/bin (run as the ``postgres`` user when we are
root: the server refuses to run as root), with trust authentication on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def redis_bin() -> str | None:
    return shutil.which("redis-server")


class PostgresCluster:
    """A PostgreSQL cluster in a temporary folder of its own on ``port``: ``start``, ``stop`` (fast, or
    ``immediate`` = a crash), ``restart``, ``remove``. ``max_connections`` is the cluster's limit (a restart may
    change it)."""

    def __init__(self, *, port: int, max_connections: int = 40) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.port, self.max_connections = port, max_connections
        # Not under pytest's tmp_path: its folders are private to us, and the server runs as another user.
        self.folder = Path(tempfile.mkdtemp(prefix="persona-lab-faults-pg-"))
        self.data = self.folder / "data"
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            account = pwd.getpwnam(self._user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        try:
            self._init()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def _init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        # fsync off: the suite kills processes, never the machine, so what PostgreSQL wrote is in the page cache.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.folder)
        if check and done.returncode:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self, *, max_connections: int | None = None) -> None:
        if max_connections is not None:
            self.max_connections = max_connections
        log = str(self.folder / "server.log")
        options = f"-c max_connections={self.max_connections}"
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")
        self.wait_ready()

    def stop(self, *, mode: str = "fast") -> None:
        """``fast`` disconnects everyone and shuts down cleanly; ``immediate`` is a crash (recovery on start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self, *, mode: str = "fast", max_connections: int | None = None) -> None:
        self.stop(mode=mode)
        self.start(max_connections=max_connections)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if self.data.exists():
            self.stop(mode="immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """A redis-server on ``port`` with its working folder in ``folder``, nothing persisted (as CI's)."""

    def __init__(self, folder: Path, *, port: int) -> None:
        self.folder, self.port = folder, port
        folder.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        binary = redis_bin()
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [binary, *arguments, "--dir", str(self.folder)],
            stdout=(self.folder / "server.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
