"""Fuzz the persona JSON / JSON Lines reader: any file is imported or refused, never a crash, never half-stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personas.attributes import ATTRIBUTES
from personas.formats import PersonaFormatError, personas_read_json
from personas.models import Persona
from personas.services import personas_import

pytestmark = pytest.mark.django_db

ANY_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff"]),  # what PostgreSQL or psycopg refuse
)
KEY = st.one_of(st.sampled_from([a.key for a in ATTRIBUTES]), ANY_TEXT)
VALUE = st.one_of(ANY_TEXT, st.integers(), st.floats(), st.none(), st.lists(st.integers(), max_size=2))
ITEM = st.one_of(
    st.dictionaries(KEY, VALUE, max_size=5),
    st.dictionaries(KEY, VALUE, max_size=5).map(lambda d: {"attributes": d}),
    st.lists(st.tuples(KEY, ANY_TEXT), max_size=4).map(lambda kv: "\n".join(f"{k}: {v}" for k, v in kv)),
    VALUE,
)
NESTED = st.integers(1, 3000).map(lambda depth: "[" * depth)


def _import_or_refuse(text: str) -> None:
    before = Persona.objects.count()
    try:
        created = personas_import(personas=list(personas_read_json(text)))
    except PersonaFormatError as exc:
        assert str(exc)  # noqa: PT017 (either outcome is fine; a refusal must say why)
        assert Persona.objects.count() == before
    else:
        assert Persona.objects.count() == before + len(created)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(lines=st.lists(st.one_of(ITEM.map(json.dumps), ANY_TEXT, NESTED), max_size=5))
def test_any_jsonl_file_is_imported_or_refused_cleanly(lines: list[str]) -> None:
    _import_or_refuse("\n".join(lines))


@FUZZ
@given(items=st.lists(ITEM, max_size=5), tail=st.one_of(st.just(""), ANY_TEXT, NESTED))
def test_any_json_list_is_imported_or_refused_cleanly(items: list[object], tail: str) -> None:
    _import_or_refuse(json.dumps(items) + tail)
