"""Writing a report's tables: each table in its own ``ReportTable`` row, its JSON streamed to the database.

On PostgreSQL a table goes in through ``COPY``, its JSON text written in 64 KiB pieces as its rows are serialized
(``core.report_kit.table_json_chunks``): the ORM binds on the client, so one INSERT of the 63,440-row ``loo_pairs``
held its row dicts, their JSON, the quoted literal and the query text at once (+78 MB of the report job's peak at
paper scale). Elsewhere (SQLite) it is an ordinary ``create``. ``tests/annotation/reports/test_storage.py`` keeps the
two paths giving the same stored value.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from annotation.reports.models import ReportTable
from core.report_kit import table_json_chunks


def report_table_write(*, snapshot_id: int, name: str, table: dict[str, Any]) -> None:
    """Store ``table`` as the snapshot's table ``name`` (its rows a list or an iterator, read once)."""
    if connection.vendor != "postgresql":
        ReportTable.objects.create(snapshot_id=snapshot_id, name=name, data={**table, "rows": list(table["rows"])})
        return
    columns = f"{ReportTable._meta.get_field('snapshot').column}, name, data"
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {ReportTable._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        # COPY's text format: tab-separated, backslash its escape (json.dumps escapes every control character, so
        # a backslash is the only character to double).
        copy.write(f"{int(snapshot_id)}\t{_copy_text(name)}\t")
        for piece in table_json_chunks(table):
            copy.write(piece.replace("\\", "\\\\"))
        copy.write("\n")


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
