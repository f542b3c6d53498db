from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from personas.display import attribute_display, duration_display, paragraphs, persona_sections
from personas.formats import PersonaRow, personas_write_jsonl
from tests.personas.factories import ADULT, PersonaFactory


@pytest.mark.parametrize(
    ("key", "raw", "shown"),
    [
        ("income", "102323.0", "$102,323 a year"),
        ("income", "-1200.0", "-$1,200 (loss) a year"),
        ("income", "0.0", "$0 a year"),
        ("age", "32.0", "32"),
        ("occupation category", "SAL-Retail Salespersons", "Retail Salespersons"),
        ("industry category", "MFG-Sawmills And Wood Preservation", "Sawmills And Wood Preservation"),
        ("occupation category", "3850", "Occupation: census code 3850 (no description available)"),
        ("sex", "Female", "Female"),
        ("defining quirks", "ABC-not a census label", "not a census label"),
        ("religion", "1234", "1234"),  # not a census key: a number is just a number
    ],
)
def test_attribute_display(key: str, raw: str, shown: str) -> None:
    assert attribute_display(key, raw) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (timedelta(seconds=7.557876), "8 s"),
        (timedelta(minutes=3, seconds=12), "3 min 12 s"),
        (600, "10 min"),
        (timedelta(hours=1, minutes=5, seconds=3), "1 h 05 min"),
        (None, ""),
    ],
)
def test_duration_display(value: object, shown: str) -> None:
    assert duration_display(value) == shown  # type: ignore[arg-type]


def test_paragraphs_join_hard_wraps_and_split_at_blank_lines() -> None:
    text = "Read the profile\ncarefully, please.\n\nThen answer\n  each question."
    assert paragraphs(text) == ["Read the profile carefully, please.", "Then answer each question."]


def test_sections_carry_formatted_values() -> None:
    sections = dict(persona_sections({"income": "52000.0", "occupation category": "EDU-Teachers", "age": "41"}))
    work = {attribute.key: value for attribute, value in sections["Work and money"]}
    assert work == {"occupation category": "Teachers", "income": "$52,000 a year"}


def test_export_keeps_raw_values_beside_readable_ones() -> None:
    record = json.loads("".join(personas_write_jsonl([PersonaRow(id="id-1", status="consistent", attributes=ADULT)])))
    assert record["attributes"]["income"] == "52000.0"
    assert record["display"]["income"] == "$52,000 a year"
    assert record["attributes"]["occupation category"].startswith("EDU-")
    assert record["display"]["occupation category"] == "Elementary And Middle School Teachers"


@pytest.mark.django_db
def test_persona_pages_show_readable_values(client: Client, analyst: object) -> None:
    client.force_login(analyst)
    persona = PersonaFactory(attributes={**ADULT, "occupation category": "SAL-Retail Salespersons"})
    card = client.get(reverse("persona-detail", args=[persona.public_id])).content.decode()
    listing = client.get(reverse("persona-list")).content.decode()
    for html in (card, listing):
        assert "Retail Salespersons" in html
        assert "SAL-" not in html
    assert "$52,000 a year" in card
    assert "52000.0" not in card
