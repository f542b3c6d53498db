"""System checks of our own (``manage.py check --deploy --database default``).

core.W001, the connection budget: every process that can hold PostgreSQL connections at once — gunicorn workers (the
old and the new ones side by side while a restart hands over), Celery pool slots, beat, and a margin for a
``manage.py`` command or a psql session — against what the server accepts. Above it, saves fail with "too many
clients" under load. The figures come from the environment (config/settings.py); the server's from ``SHOW``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections

CONNECTION_BUDGET_CHECK_ID = "core.W001"
# A Celery pool slot runs one task; the task's lease heartbeat borrows a second connection for a moment each beat.
CONNECTIONS_PER_WORKER_SLOT = 2
BEAT_CONNECTIONS = 1
# manage.py commands (migrate, jobs_sweep, shell) and an operator's psql session.
MARGIN_CONNECTIONS = 5


@dataclass(frozen=True)
class ConnectionBudget:
    """The most PostgreSQL connections this deployment can hold at once, by who holds them."""

    web_workers: int
    per_web_worker: int
    worker_slots: int
    per_worker_slot: int
    beat: int = BEAT_CONNECTIONS
    margin: int = MARGIN_CONNECTIONS

    @property
    def web(self) -> int:
        """Counted twice: during a restart the old workers finish their requests while the new ones serve."""
        return 2 * self.web_workers * self.per_web_worker

    @property
    def workers(self) -> int:
        return self.worker_slots * self.per_worker_slot

    @property
    def total(self) -> int:
        return self.web + self.workers + self.beat + self.margin

    def describe(self) -> str:
        return (
            f"{self.total} = web 2 x {self.web_workers} gunicorn workers x {self.per_web_worker}"
            f" + Celery {self.worker_slots} slots x {self.per_worker_slot} + beat {self.beat} + margin {self.margin}"
        )


def connection_budget() -> ConnectionBudget:
    """The budget the environment declares: WEB_CONCURRENCY, GUNICORN_THREADS, CELERY_WORKER_CONCURRENCY and
    DATABASE_POOL_MAX_SIZE. A process never holds more connections than it has threads using them, nor more than its
    pool allows."""
    pool_max = settings.DATABASE_POOL_MAX_SIZE
    return ConnectionBudget(
        web_workers=settings.WEB_CONCURRENCY,
        per_web_worker=min(settings.GUNICORN_THREADS, pool_max),
        worker_slots=settings.CELERY_WORKER_CONCURRENCY,
        per_worker_slot=min(CONNECTIONS_PER_WORKER_SLOT, pool_max),
    )


def _server_allows(alias: str) -> int | None:
    """Connections the server gives ordinary roles: max_connections less the reserved ones; None if unreachable."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
                " - coalesce(current_setting('reserved_connections', true), '0')::int"
            )
            return int(cursor.fetchone()[0])
    except DatabaseError:
        return None


@checks.register(checks.Tags.database, deploy=True)
def connection_budget_check(app_configs: Any = None, databases: list[str] | None = None, **kwargs: Any) -> list:
    """Warn when the declared processes could open more connections than PostgreSQL accepts."""
    if not databases or "default" not in databases or connections["default"].vendor != "postgresql":
        return []  # a check may touch only the databases it is given (--database default)
    allowed = _server_allows("default")
    if allowed is None:
        return []  # the database is unreachable: nothing to compare with
    budget = connection_budget()
    if budget.total <= allowed:
        return []
    return [
        checks.Warning(
            f"The connection budget ({budget.describe()}) exceeds the {allowed} connections PostgreSQL allows "
            "(max_connections less the reserved ones).",
            hint="Lower WEB_CONCURRENCY, GUNICORN_THREADS, CELERY_WORKER_CONCURRENCY or DATABASE_POOL_MAX_SIZE, or "
            "raise max_connections; see README, 'Operating it', 'Connection budget'.",
            id=CONNECTION_BUDGET_CHECK_ID,
        )
    ]
