"""core.rows leans on Django internals (listed in its docstring); each is pinned here, so a Django upgrade that
changes one fails here, by name, before the participant pages do."""

from __future__ import annotations

import inspect

import pytest
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Model
from django.db.models.expressions import Col
from django.db.models.fields import Field
from django.db.models.fields.mixins import FieldCacheMixin
from django.utils.functional import cached_property

from core.models import Job
from core.rows import cache_related, instance_from, prepared_cursor, select_list, table


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_private_apis_core_rows_uses_keep_their_shape() -> None:
    assert _parameters(Field.get_col) == ["self", "alias", "output_field"]
    assert _parameters(Col.get_db_converters) == ["self", "connection"]
    assert _parameters(BaseDatabaseOperations.get_db_converters) == ["self", "expression"]
    assert _parameters(Model.from_db) == ["db", "field_names", "values"]
    assert _parameters(FieldCacheMixin.set_cached_value) == ["self", "instance", "value"]
    assert _parameters(BaseDatabaseWrapper.make_cursor) == ["self", "cursor"]
    assert _parameters(BaseDatabaseWrapper.make_debug_cursor) == ["self", "cursor"]
    assert _parameters(BaseDatabaseWrapper.validate_thread_sharing) == ["self"]
    assert isinstance(BaseDatabaseWrapper.queries_logged, property)
    assert isinstance(BaseDatabaseWrapper.wrap_database_errors, cached_property)
    assert [f.attname for f in Job._meta.concrete_fields][:2] == ["id", "kind"]


@pytest.mark.django_db
def test_a_row_becomes_the_instance_the_orm_gives(django_user_model: type[Model]) -> None:
    user = django_user_model.objects.create(username="rows")
    job = Job.objects.create(kind="core.test", params={"a": [1, 2]}, dedupe_key="k", started_by=user)
    sql = f"SELECT {select_list(Job, 'j')} FROM {table(Job)} j WHERE j.id = %s"
    with prepared_cursor() as cursor:
        cursor.execute(sql, [job.pk])
        row = cursor.fetchone()
    found, end = instance_from(Job, row, 0)
    assert end == len(row)
    expected = Job.objects.get(pk=job.pk)
    assert {f.attname: getattr(found, f.attname) for f in Job._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in Job._meta.concrete_fields
    }
    assert found.params == {"a": [1, 2]}  # JSON decoded on every backend
    cache_related(found, "started_by", user)
    assert found.started_by is user
    assert instance_from(Job, (None,) * len(row), 0) == (None, len(row))
    assert connection.vendor in ("sqlite", "postgresql")
