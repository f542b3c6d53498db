"""Planner statistics after a bulk write: ``ANALYZE`` on the tables it filled (PostgreSQL).

autovacuum analyses a table only after its own threshold and delay; a query planned in between sees the table as it
was (a study's answers as a few hundred rows when they are 70,000) and may pick a nested loop that takes seconds
instead of milliseconds. A service that has just written many rows says so here. SQLite plans without such
statistics: nothing to do there.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model


def tables_analyze(*models: type[Model]) -> None:
    """Refresh the planner statistics of each model's table (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
