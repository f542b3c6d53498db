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


@pytest.mark.parametrize(
    ("status", "worker"),
    [
        ("Not employed", "Not applicable"),
        ("Not Employed", "Not Applicable"),
        ("None", "None"),
        ("Unemployed", "Unemployed and last worked 5 years ago or earlier or never worked"),
        ("Too young to work", "Not applicable"),
        ("Student", ""),
    ],
)
def test_persona_wording_for_no_job_is_not_a_child_with_a_job(status: str, worker: str) -> None:
    child = {"age": "7", "sex": "Female", "employment status": status, "class of worker": worker}
    assert persona_rules_check(child) == []


@pytest.mark.parametrize(
    ("status", "worker"),
    [("Part-time", "Private"), ("Civilian employed, at work", ""), ("Not in labor force", "Unpaid family workers")],
)
def test_a_child_with_a_job_is_still_flagged(status: str, worker: str) -> None:
    child = {"age": "12", "sex": "Male", "employment status": status, "class of worker": worker}
    assert persona_rules_check(child) == ["a 12-year-old with a job"]


def test_persona_wording_of_birth_and_military_service_is_recognised() -> None:
    birth = "Gave birth within the past 12 months"
    man = {**ADULT, "sex": "Male", "fertility": birth}
    assert persona_rules_check(man) == ["a man who gave birth in the last year"]
    assert persona_rules_check({**ADULT, "age": "62", "fertility": birth}) == ["gave birth in the last year at age 62"]
    assert persona_rules_check({**ADULT, "age": "24", "fertility": birth}) == []
    soldier = {**ADULT, "employment status": "Armed forces, at work"}
    for never in ("Non-Veteran", "Nonveteran", "Not a veteran", "Never served in the military"):
        assert persona_rules_check({**soldier, "veteran status": never}) == [
            "works in the armed forces but never served in the military"
        ]
    assert persona_rules_check({**soldier, "veteran status": "Now on active duty"}) == []
    assert persona_rules_check({**ADULT, "age": "92", "veteran status": "World War II Veteran"}) == []
    young = {"age": "15", "sex": "Male"}
    assert persona_rules_check({**young, "veteran status": "Non-Veteran"}) == []
    assert persona_rules_check({**young, "veteran status": "Veteran"}) == ["a 15-year-old with military service"]
