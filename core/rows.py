"""Model instances from hand-written SQL: for the few hot reads where compiling the ORM query costs more than
running it.

On the participant pages Django spends 1-2 ms compiling each select_related query and a quarter of that running it.
These helpers give such a read what the compiler would have given it: every concrete column of a model (so a new
field needs no change here), the same value conversions (JSON, UUIDs and dates on SQLite) and real model instances
with their related objects cached, as select_related leaves them.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
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
    instance._meta.get_field(field_name).set_cached_value(instance, related)  # type: ignore[attr-defined]
