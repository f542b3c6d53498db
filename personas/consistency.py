"""Rule-based consistency checks over a persona's attributes (decoded labels, so imported personas work too).

Each rule looks at a few keys and returns why the combination is implausible, or None. ``persona_rules_check``
runs them all; a persona with any reason is pruned before the (optional) LLM check sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from personas.enrichment import LIST_KEYS, curated_item

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
EVER_MARRIED = ("Married", "Widowed", "Divorced", "Separated")

# The rules read two vocabularies: PUMS labels (generated personas) and the free wording of the released PERSONA
# personas ("Not employed", "Non-Veteran", "Gave birth within the past 12 months", "None", "Not Applicable").
# Each reading is one function below, so no rule matches a substring by accident ("Not employed" contains
# "employed"; "Non-Veteran" contains "Veteran").
NOT_APPLICABLE_TEXT = {"", "not applicable", "n/a", "na", "none"}
NOT_WORKING = ("not ", "non-", "unemployed", "none", "no ", "student", "retired", "homemaker", "too young", "n/a")
WORKING = ("employed", "armed forces", "part-time", "full-time", "at work", "with a job", "working")
NO_JOB_CLASS = ("unemployed", "not ", "none", "no ", "retired", "student", "homemaker", "too young", "n/a")
NEVER_SERVED = ("never served", "non-veteran", "nonveteran", "non veteran", "not a veteran", "no military")
SERVED = ("now on active duty", "on active duty", "only on active duty for training")
GAVE_BIRTH_LAST_YEAR = {
    "yes",
    "gave birth within the past 12 months",
    "gave birth in the past 12 months",
    "gave birth in the last year",
    "gave birth within the last year",
}


def _value(attributes: Attributes, key: str) -> str:
    """The value, or "" when absent or written out as not applicable (the PERSONA dataset does that)."""
    value = str(attributes.get(key) or "").strip()
    lowered = value.lower()
    return "" if lowered in NOT_APPLICABLE_TEXT or lowered.startswith("n/a (") else value


def is_working(status: str) -> bool:
    """Whether an employment status says the person has a job ("Civilian employed, …", "Armed forces, …",
    "Part-time"); "Not employed", "Unemployed", "Not in labor force", "Student" and "None" do not."""
    lowered = status.strip().lower()
    if not lowered or lowered.startswith(NOT_WORKING):
        return False
    return any(marker in lowered for marker in WORKING)


def has_job_class(worker: str) -> bool:
    """Whether a class of worker names a job ("Private", "State government employee", "Unpaid family workers");
    "None", "Not applicable", "Unemployed and last worked 5 years ago …" and "Retired" do not."""
    lowered = worker.strip().lower()
    return bool(lowered) and lowered not in NOT_APPLICABLE_TEXT and not lowered.startswith(NO_JOB_CLASS)


def military_service(status: str) -> bool | None:
    """True when the veteran status says the person served, False when it says they never did, None if unknown."""
    lowered = status.strip().lower()
    if lowered in NOT_APPLICABLE_TEXT:
        return None
    if lowered.startswith(NEVER_SERVED):
        return False
    if lowered.startswith(SERVED) or "veteran" in lowered:  # "Veteran", "World War II Veteran"
        return True
    return None


def gave_birth_last_year(fertility: str) -> bool:
    """PUMS FER "Yes", or PERSONA's "Gave birth within the past 12 months"."""
    return fertility.strip().lower() in GAVE_BIRTH_LAST_YEAR


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
    working = is_working(_value(a, "employment status")) or has_job_class(_value(a, "class of worker"))
    if age is not None and age < 15 and working:
        return f"a {age:.0f}-year-old with a job"
    return None


def employment_vs_class_of_worker(a: Attributes) -> str | None:
    status, worker = _value(a, "employment status"), _value(a, "class of worker")
    if is_working(status) and worker.lower().startswith("unemployed and last worked"):
        return f"employed ({status.lower()}) yet last worked 5 or more years ago"
    return None


def fertility_vs_sex_and_age(a: Attributes) -> str | None:
    if not gave_birth_last_year(_value(a, "fertility")):
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
    if age < 17 and military_service(status):
        return f"a {age:.0f}-year-old with military service"
    if age > 70 and status.lower().startswith("now on active duty"):
        return f"on active duty at age {age:.0f}"
    return None


def armed_forces_vs_veteran_status(a: Attributes) -> str | None:
    employment, service = _value(a, "employment status"), military_service(_value(a, "veteran status"))
    if employment.lower().startswith("armed forces") and service is False:
        return "works in the armed forces but never served in the military"
    return None


# Teenagers do state a party or an ideology (the released PERSONA personas have 13- to 17-year-olds who do); the
# pools draw those keys from 18 only, but the rule objects only below this age.
VIEWS_PLAUSIBLE_FROM_AGE = 13
VIEWS_KEYS = ("ideology", "political views")


def enrichment_vs_age(a: Attributes) -> str | None:
    """A lifestyle/value the curated pools hold for another age band: "a 2-year-old whose lifestyle is 'Frugal and
    self-reliant'". Catches what the age-banded draw cannot: LLM enrichment, imports, personas made before the bands.
    """
    age = _number(a, "age")
    if age is None:
        return None
    for key in LIST_KEYS:
        item = curated_item(key, _value(a, key))
        if item is None:
            continue
        low = min(item.min_age, VIEWS_PLAUSIBLE_FROM_AGE) if key in VIEWS_KEYS else item.min_age
        if age < low or (item.max_age is not None and age > item.max_age):
            return f"a {age:.0f}-year-old whose {key} is {item.text!r}"
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
    enrichment_vs_age,
)


def persona_rules_check(attributes: Attributes) -> list[str]:
    """Every rule's objection to these attributes; an empty list means the persona passed the rules."""
    return [reason for rule in RULES if (reason := rule(attributes)) is not None]
