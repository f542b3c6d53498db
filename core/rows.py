"""Model instances from hand-written SQL, and a cursor that can prepare: for the few hot statements where Django
compiling an ORM query costs more than the database running it (today the participant pages,
``annotation.services.participant_store``).

``instance_from`` gives such a read what the compiler would have given it: every concrete column of a model (so a new
field needs no change here), the same value conversions (JSON, UUIDs and dates on SQLite) and real model instances
with their related objects cached, as select_related leaves them.

Django APIs this relies on that are not in its documented public API (tests/core/test_rows.py pins each one, so a
Django upgrade that changes them fails there first):

- ``Model._meta.concrete_fields``, ``Field.get_col(alias)``, ``Col.get_db_converters(connection)`` and
  ``connection.ops.get_db_converters(expression)``: the columns and the converters the SQL compiler applies;
- ``Field.set_cached_value(instance, value)`` (``FieldCacheMixin``): where select_related leaves a related object;
- ``connection.make_cursor(cursor)``, ``connection.make_debug_cursor(cursor)``, ``connection.queries_logged``,
  ``connection.wrap_database_errors``, ``connection.validate_thread_sharing()`` and ``connection.connection`` (the
  driver's connection): wrapping a cursor of our own the way Django wraps its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def select_list(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model`` under the table alias ``alias``, in field order, for a SELECT list."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def table(model: type[Model]) -> str:
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(model._meta.db_table)


@lru_cache(maxsize=64)
def _converters(model: type[Model], connection: object) -> tuple[list[tuple[object, list]], list[str]]:
    """Per field, its column and the converters Django's compiler would apply to it (backend's, then the field's)."""
    per_field = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)  # type: ignore[attr-defined]
        per_field.append((column, converters))
    return per_field, [field.attname for field in model._meta.concrete_fields]


def instance_from(model: type[Model], row: tuple, start: int, *, connection: object = None) -> tuple[Model | None, int]:
    """The ``model`` instance whose columns (as ``select_list`` lists them) begin at ``row[start]``, or None when
    they are all NULL (an outer join that found nothing); and the index just past them."""
    connection = connection or connections[DEFAULT_DB_ALIAS]  # this thread's own, not the proxy
    per_field, attnames = _converters(model, connection)
    end = start + len(attnames)
    values = list(row[start:end])
    if all(value is None for value in values):
        return None, end
    for index, (column, converters) in enumerate(per_field):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return model.from_db(connection.alias, attnames, values), end  # type: ignore[attr-defined]


def cache_related(instance: Model, field_name: str, related: Model | None) -> None:
    """Leave ``related`` where select_related would have: ``instance.<field_name>`` then costs no query."""
    instance._meta.get_field(field_name).set_cached_value(instance, related)  # type: ignore[union-attr]


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor for a hot statement: Django's, but on PostgreSQL one that binds on the server and so can prepare.

    psycopg prepares a statement from its second execution on a connection (``prepare_threshold``, set in the
    settings when ``DATABASE_PREPARED_STATEMENTS`` is on); Django's own cursors bind on the client and never prepare.
    The cursor is still wrapped by Django, so errors are Django's and the statements appear in captured query logs.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        yield cursor
