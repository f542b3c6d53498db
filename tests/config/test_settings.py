from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghij",
    "DJANGO_ALLOWED_HOSTS": "personalab.example.org",
    "DATABASE_URL": "postgres://persona:secret@db.example.org:5432/persona",
    "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    clean.update(PERSONA_LAB_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "environment variable DJANGO_SECRET_KEY is required"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be at least 50 characters"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS is required"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a URL starting with"),
        ({"CELERY_BROKER_URL": "nonsense"}, "CELERY_BROKER_URL must be a URL starting with"),
        ({"JOB_STALL_SECONDS": "ten"}, "JOB_STALL_SECONDS must be an integer"),
        (
            {"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "2"},
            "DATABASE_POOL_MIN_SIZE must be at most DATABASE_POOL_MAX_SIZE (2)",
        ),
    ],
)
def test_bad_environment_stops_startup_with_one_line(tmp_path, env, message):
    result = manage("check", env={**PRODUCTION_ENV, **env}, tmp_path=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert lines[0].startswith("Persona Lab cannot start:")


def test_sqlite_chosen_through_database_url_keeps_the_embedded_options(tmp_path):
    """WAL, immediate transactions, a timeout and a file test database, as the embedded default has."""
    show = (
        "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    embedded = manage("shell", "-c", show, env={}, tmp_path=tmp_path)
    by_url = manage("shell", "-c", show, env={"DATABASE_URL": f"sqlite:///{tmp_path}/moved.sqlite3"}, tmp_path=tmp_path)
    assert embedded.returncode == 0, embedded.stderr
    assert by_url.returncode == 0, by_url.stderr

    embedded_db, url_db = json.loads(embedded.stdout.splitlines()[-1]), json.loads(by_url.stdout.splitlines()[-1])
    assert url_db["NAME"] == f"{tmp_path}/moved.sqlite3"
    assert url_db["OPTIONS"] == embedded_db["OPTIONS"]
    assert url_db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in url_db["OPTIONS"]["init_command"]
    assert url_db["TEST"]["NAME"] == f"{tmp_path}/test-moved.sqlite3"


def test_postgresql_connections_come_from_a_bounded_pool(tmp_path):
    """Connections from a psycopg pool sized by the environment (CONN_MAX_AGE 0, as Django requires with a pool),
    prepared statements still on."""
    show = "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default']))"
    env = {**PRODUCTION_ENV, "DATABASE_POOL_MAX_SIZE": "6", "DATABASE_POOL_TIMEOUT": "3"}
    result = manage("shell", "-c", show, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout.splitlines()[-1])
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"] == {"min_size": 0, "max_size": 6, "timeout": 3, "max_idle": 60}
    assert database["OPTIONS"]["prepare_threshold"] == 2
