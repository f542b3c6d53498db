"""Fuzz the pairs parser: any file is imported or refused with FileRefusedError, never a crash, never half-stored."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.pairs.importing import pairs_import
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.uploads import FileRefusedError

pytestmark = pytest.mark.django_db

# Every code point, lone surrogates and NUL included: what a JSON escape can smuggle in.
ANY_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff"]),  # what PostgreSQL or psycopg refuse
)
FIELD = st.sampled_from(["prompt", "chosen", "rejected", "answer_a", "answer_b", "persona", "split", "topic", "x"])
VALUE = st.one_of(ANY_TEXT, st.integers(), st.floats(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
RECORD = st.dictionaries(FIELD, VALUE, max_size=6)
NESTED = st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * (depth % 7))


def _jsonl(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _csv(header: list[str], rows: list[list[str]], garbage: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return (out.getvalue() + "\n".join(garbage)).encode("utf-8", "surrogatepass")


def _import_or_refuse(data: bytes, file_format: str) -> None:
    before = (Prompt.objects.count(), PreferencePair.objects.count())
    try:
        result = pairs_import(data=data, file_format=file_format)
    except FileRefusedError as exc:
        assert str(exc)  # noqa: PT017 (either outcome is fine; a refusal must say why)
        assert (Prompt.objects.count(), PreferencePair.objects.count()) == before
    else:
        assert PreferencePair.objects.filter(pk__in=result.pair_ids).count() == len(set(result.pair_ids))


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(lines=st.lists(st.one_of(RECORD.map(json.dumps), VALUE.map(json.dumps), ANY_TEXT, NESTED), max_size=5))
def test_any_jsonl_file_is_imported_or_refused_cleanly(lines: list[str]) -> None:
    _import_or_refuse(_jsonl(lines), "jsonl")


@FUZZ
@given(
    header=st.lists(FIELD, min_size=1, max_size=5).map(lambda h: ["prompt", *h]),
    rows=st.lists(st.lists(ANY_TEXT, max_size=7), max_size=5),
    garbage=st.lists(st.one_of(ANY_TEXT, st.just('"unbalanced, quote')), max_size=2),
)
def test_any_csv_file_is_imported_or_refused_cleanly(
    header: list[str], rows: list[list[str]], garbage: list[str]
) -> None:
    _import_or_refuse(_csv(header, rows, garbage), "csv")


@FUZZ
@given(data=st.binary(max_size=300), file_format=st.sampled_from(["csv", "jsonl", "xml"]))
def test_any_bytes_are_imported_or_refused_cleanly(data: bytes, file_format: str) -> None:
    _import_or_refuse(data, file_format)
