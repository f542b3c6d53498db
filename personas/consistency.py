"""Rule-based consistency checks over a persona's attributes (decoded labels, so imported personas work too).

Each rule looks at a few keys and returns why the combination is implausible, or None. ``persona_rules_check``
runs them all; a persona with any reason is pruned before the (optional) LLM check sees it.
"""

from __future__ import annotations

from collections.abc import Callable

Attributes = dict[str, str]

# Youngest plausible age for holding each education level (PUMS SCHL labels; also PERSONA's).
EDUCATION_MIN_AGE = {
    "Regular high school diploma": 16,
    "GED or alternative credential": 16,
    "Associate's degree": 18,
    "Bachelor's degree": 19,
    "Master's degree": 21,
    "Professional degree beyond a bachelor's degree": 22,
    "Doctorate degree": 23,
}
SERVED = ("Now on active duty", "On active duty in the past", "Only on active duty for training", "Veteran")
EVER_MARRIED = ("Married", "Widowed", "Divorced", "Separated")


NOT_APPLICABLE_TEXT = {"", "not applicable", "n/a", "na"}


def _value(attributes: Attributes, key: str) -> str:
    """The value, or "" when absent or written out as not applicable (the PERSONA dataset does that)."""
    value = str(attributes.get(key) or "").strip()
    return "" if value.lower() in NOT_APPLICABLE_TEXT else value


def _is_employed(status: str) -> bool:
    lowered = status.lower()
    return ("employed" in lowered and "unemployed" not in lowered) or lowered.startswith("armed forces")


def _number(attributes: Attributes, key: str) -> float | None:
    try:
        return float(attributes[key])
    except (KeyError, TypeError, ValueError):
        return None


def income_vs_age(a: Attributes) -> str | None:
    age, income = _number(a, "age"), _number(a, "income")
    if age is None or income is None:
        return None
    if age < 15 and income != 0:
        return f"a {age:.0f}-year-old with a personal income of ${income:,.0f}"
    if age < 18 and income > 100_000:
        return f"a {age:.0f}-year-old earning ${income:,.0f} a year"
    return None


def education_vs_age(a: Attributes) -> str | None:
    age, minimum = _number(a, "age"), EDUCATION_MIN_AGE.get(_value(a, "education"))
    if age is not None and minimum is not None and age < minimum:
        return f"a {age:.0f}-year-old with a {a['education'].lower()}"
    return None


def marital_status_vs_age(a: Attributes) -> str | None:
    age, status = _number(a, "age"), _value(a, "marital status")
    if age is not None and age < 15 and status.startswith(EVER_MARRIED):
        return f"a {age:.0f}-year-old who is {status.lower()}"
    return None


def employment_vs_age(a: Attributes) -> str | None:
    age = _number(a, "age")
    if age is not None and age < 15 and (_is_employed(_value(a, "employment status")) or _value(a, "class of worker")):
        return f"a {age:.0f}-year-old with a job"
    return None


def employment_vs_class_of_worker(a: Attributes) -> str | None:
    status, worker = _value(a, "employment status"), _value(a, "class of worker")
    if _is_employed(status) and worker.startswith("Unemployed"):
        return f"employed ({status.lower()}) yet last worked 5 or more years ago"
    return None


def fertility_vs_sex_and_age(a: Attributes) -> str | None:
    if a.get("fertility", "") != "Yes":
        return None
    age = _number(a, "age")
    if a.get("sex") == "Male":
        return "a man who gave birth in the last year"
    if age is not None and not 12 <= age <= 55:
        return f"gave birth in the last year at age {age:.0f}"
    return None


def veteran_status_vs_age(a: Attributes) -> str | None:
    age, status = _number(a, "age"), _value(a, "veteran status")
    if age is None or not status:
        return None
    if age < 17 and status.startswith(SERVED):
        return f"a {age:.0f}-year-old with military service"
    if age > 70 and status.startswith("Now on active duty"):
        return f"on active duty at age {age:.0f}"
    return None


def armed_forces_vs_veteran_status(a: Attributes) -> str | None:
    if a.get("employment status", "").startswith("Armed forces") and a.get("veteran status", "").startswith(
        "Never served"
    ):
        return "works in the armed forces but never served in the military"
    return None


RULES: tuple[Callable[[Attributes], str | None], ...] = (
    income_vs_age,
    education_vs_age,
    marital_status_vs_age,
    employment_vs_age,
    employment_vs_class_of_worker,
    fertility_vs_sex_and_age,
    veteran_status_vs_age,
    armed_forces_vs_veteran_status,
)


def persona_rules_check(attributes: Attributes) -> list[str]:
    """Every rule's objection to these attributes; an empty list means the persona passed the rules."""
    return [reason for rule in RULES if (reason := rule(attributes)) is not None]
