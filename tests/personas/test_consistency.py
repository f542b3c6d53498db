from __future__ import annotations

import pytest

from personas.consistency import persona_rules_check
from tests.personas.factories import ADULT


def test_a_plausible_adult_passes() -> None:
    assert persona_rules_check(ADULT) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"age": "12", "income": "15000.0"}, "personal income"),
        (
            {
                "age": "16",
                "income": "250000.0",
                "education": "",
                "marital status": "Never married or under 15 years old",
            },
            "earning",
        ),
        ({"age": "17", "education": "Doctorate degree"}, "doctorate degree"),
        ({"age": "13", "marital status": "Divorced", "income": "0.0"}, "divorced"),
        ({"age": "14", "income": "0.0", "marital status": "Never married or under 15 years old"}, "with a job"),
        ({"sex": "Male", "fertility": "Yes"}, "a man who gave birth"),
        ({"age": "63", "fertility": "Yes"}, "at age 63"),
        (
            {
                "age": "15",
                "income": "0.0",
                "education": "",
                "marital status": "Never married or under 15 years old",
                "employment status": "",
                "occupation category": "",
                "veteran status": "Now on active duty",
            },
            "military service",
        ),
        (
            {"employment status": "Armed forces, at work", "veteran status": "Never served in the military"},
            "armed forces",
        ),
        ({"class of worker": "Unemployed and last worked 5 years ago or earlier or never worked"}, "5 or more years"),
    ],
)
def test_rules_flag_implausible_combinations(change: dict[str, str], fragment: str) -> None:
    reasons = persona_rules_check({**ADULT, **change})
    assert any(fragment in reason for reason in reasons), reasons


def test_persona_style_not_applicable_values_are_not_objections() -> None:
    child = {
        "age": "9",
        "employment status": "Unemployed",
        "class of worker": "Not applicable",
        "income": "Not applicable",
        "marital status": "Never married or under 15 years old",
        "education": "Grade 2",
    }
    assert persona_rules_check(child) == []
