from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import TEST_PASSWORD, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # Each test session gets its own queue, so a demo worker or an earlier run never takes our tasks.
    from config.celery import app

    session_tag = uuid.uuid4().hex[:12]
    app.conf.task_default_queue = f"test-{session_tag}"
    # Rate-limit counters in a shared Redis cache must not leak between test runs.
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{session_tag}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.db import connection

    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI does)")
    if item.get_closest_marker("redis") and not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://… (CI does)")
    if item.get_closest_marker("browser") and not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (bin/test installs it)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name every test skipped for want of a real service, so a local run says what CI will add."""
    missing = [
        (report.nodeid, report.longrepr[2].removeprefix("Skipped: "))
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and "needs " in report.longrepr[2]
    ]
    if missing:
        terminalreporter.section("skipped for want of a service")
        for nodeid, reason in missing:
            terminalreporter.write_line(f"{nodeid}  ({reason})")


@pytest.fixture(autouse=True)
def data_dir(settings: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test stores its files (imported census records, uploads, exports) in a data folder of its own.

    PERSONA_LAB_DATA_DIR is often reused between local runs; nothing a test writes may land there or outlive it.
    """
    settings.DATA_DIR = tmp_path_factory.mktemp("data")  # type: ignore[attr-defined]
    return settings.DATA_DIR  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def celery_worker_session(django_db_blocker: object) -> Iterator[object]:
    """A real Celery worker (threads pool) consuming from the configured broker: filesystem or Redis."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20) as worker:
        yield worker


@pytest.fixture
def celery_worker(celery_worker_session: object, transactional_db: None) -> object:
    """Use with tests that start jobs: the worker's threads see only committed rows, hence transactional_db."""
    return celery_worker_session


@pytest.fixture
def coordinator(db: None) -> object:
    return UserFactory(groups=["Coordinator"])


@pytest.fixture
def analyst(db: None) -> object:
    return UserFactory(groups=["Analyst"])


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD
