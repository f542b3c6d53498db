"""core.W001, the connection budget check: the declared processes against PostgreSQL's max_connections."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection

from core.checks import CONNECTION_BUDGET_CHECK_ID, connection_budget

ROOT = Path(__file__).resolve().parents[2]


def _budget_warnings() -> list:
    return [
        message
        for message in run_checks(include_deployment_checks=True, databases=["default"])
        if message.id == CONNECTION_BUDGET_CHECK_ID
    ]


def test_the_budget_counts_each_process_at_most_its_threads_and_its_pool(settings):
    settings.WEB_CONCURRENCY, settings.GUNICORN_THREADS, settings.CELERY_WORKER_CONCURRENCY = 4, 8, 6
    settings.DATABASE_POOL_MAX_SIZE = 4
    budget = connection_budget()
    # 2 x 4 workers x min(8 threads, pool 4) + 6 slots x 2 + beat 1 + margin 5
    assert (budget.web, budget.workers, budget.total) == (32, 12, 50)
    settings.GUNICORN_THREADS = 1  # a sync worker holds one connection whatever its pool allows
    assert connection_budget().web == 8


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_budget_above_max_connections_warns(settings, monkeypatch):
    # The browser tests set it for Playwright's sync API; a deploy check counts it as an error (async.E001).
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    settings.WEB_CONCURRENCY, settings.GUNICORN_THREADS, settings.CELERY_WORKER_CONCURRENCY = 2, 1, 2
    assert _budget_warnings() == []
    settings.WEB_CONCURRENCY = max_connections  # 2 connections each, counting a restart's overlap
    [warning] = _budget_warnings()
    assert warning.msg.startswith(f"The connection budget ({connection_budget().total} = web 2 x {max_connections}")
    assert "WEB_CONCURRENCY" in warning.hint
    # The way an operator meets it: manage.py check --deploy --database default.
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--deploy", "--database", "default", stdout=out, stderr=err)
    assert CONNECTION_BUDGET_CHECK_ID in out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_the_check_touches_no_database_unless_given_one(settings, django_assert_num_queries):
    settings.WEB_CONCURRENCY = 100_000
    with django_assert_num_queries(0):
        assert [m for m in run_checks(include_deployment_checks=True) if m.id == CONNECTION_BUDGET_CHECK_ID] == []


def test_an_unreachable_database_is_not_a_warning():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # see above
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/nowhere",
        "DATABASE_POOL_TIMEOUT": "1",
        "WEB_CONCURRENCY": "100000",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--database", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert CONNECTION_BUDGET_CHECK_ID not in result.stdout + result.stderr
