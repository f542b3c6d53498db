from __future__ import annotations

import json

import pytest

from personas.attributes import ATTRIBUTE_KEYS
from personas.formats import (
    PersonaFormatError,
    PersonaRow,
    persona_from_text,
    persona_to_dict,
    persona_to_text,
    personas_read_json,
    personas_write_jsonl,
)
from tests.personas.factories import ADULT

# PERSONA's layout, written for this test: the optional census keys before "big five scores" (the registry puts them
# after "religion"), an empty value, and a final newline.
PERSONA_LAYOUT = (
    "age: 34\nsex: Male\nrace: White alone\neducation: Bachelor's degree\nemployment status: Not employed\n"
    "income: 0.0\nmarital status: Never married\nveteran status: Non-Veteran\nhearing difficulty: Yes\n"
    "ability to speak english: Very well\nbig five scores: Openness: High, Conscientiousness: Low, Extraversion: "
    "Average, Agreeableness: High, Neuroticism: Low\nlifestyle: Quiet and home-centred\nideology: \n"
    "political views: Independent\nreligion: Catholic\n"
)


def test_line_string_round_trip_keeps_colons_in_values() -> None:
    text = persona_to_text(ADULT)
    assert text.splitlines()[0] == "age: 41"
    assert text.endswith("Catholic\n")
    assert persona_from_text(text) == ADULT


def test_persona_layout_round_trips_byte_for_byte() -> None:
    attributes = persona_from_text(PERSONA_LAYOUT)
    assert attributes["ideology"] == ""  # present but empty, not dropped
    assert persona_to_text(attributes, order=list(attributes)) == PERSONA_LAYOUT
    assert persona_to_text(attributes) != PERSONA_LAYOUT  # registry order moves the optional keys: order is kept
    assert persona_to_dict(attributes)["ideology"] == ""
    assert persona_to_dict(attributes)["fertility"] is None


def test_dict_has_all_33_keys_with_none_for_absent() -> None:
    data = persona_to_dict(ADULT)
    assert list(data) == list(ATTRIBUTE_KEYS)
    assert len(data) == 33
    assert data["fertility"] is None
    assert data["age"] == "41"


def test_jsonl_round_trip_and_the_persona_json_list() -> None:
    lines = "".join(personas_write_jsonl([PersonaRow(id="id-1", status="consistent", attributes=ADULT)]))
    assert json.loads(lines)["attributes"]["sex"] == "Female"
    assert list(personas_read_json(lines)) == [ADULT]
    as_list = json.dumps([persona_to_text(ADULT), persona_to_dict(ADULT)])
    assert list(personas_read_json(as_list)) == [ADULT, ADULT]


def test_format_errors_say_where() -> None:
    with pytest.raises(PersonaFormatError, match="line 2: unknown attribute key"):
        list(personas_read_json('"age: 3"\n"shoe size: 9"\n'))
    with pytest.raises(PersonaFormatError, match="line 1: not valid JSON"):
        list(personas_read_json("{nope\n"))
    with pytest.raises(PersonaFormatError, match="no 'key: value' form"):
        persona_from_text("just words")
