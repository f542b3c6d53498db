"""The 33 PERSONA attributes: one registry says each key's label, source group, display section and order,
and for census keys the PUMS variable(s) it comes from. Persona pages, imports and exports all read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["census", "procedural", "llm"]

SECTIONS = (
    ("about", "About them"),
    ("work", "Work and money"),
    ("household", "Household"),
    ("health", "Health"),
    ("personality", "Personality"),
    ("values", "Lifestyle and values"),
)


@dataclass(frozen=True)
class Attribute:
    key: str  # exactly as in the PERSONA dataset ("household language")
    label: str
    source: Source
    section: str
    order: int
    pums: tuple[str, ...] = ()  # PUMS variable(s), first match wins across survey years
    household: bool = False  # a housing-record variable, joined to persons on SERIALNO


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("age", "Age", "census", "about", 1, ("AGEP",)),
    Attribute("sex", "Sex", "census", "about", 2, ("SEX",)),
    Attribute("race", "Race", "census", "about", 3, ("RAC1P",)),
    Attribute("ancestry", "Ancestry", "census", "about", 4, ("ANC1P",)),
    Attribute("household language", "Household language", "census", "household", 5, ("HHL", "HHLANP"), True),
    Attribute("education", "Education", "census", "about", 6, ("SCHL",)),
    Attribute("employment status", "Employment status", "census", "work", 7, ("ESR",)),
    Attribute("class of worker", "Class of worker", "census", "work", 8, ("COW",)),
    Attribute("industry category", "Industry", "census", "work", 9, ("INDP",)),
    Attribute("occupation category", "Occupation", "census", "work", 10, ("OCCP",)),
    Attribute("detailed job description", "What their job involves", "llm", "work", 11),
    Attribute("income", "Income (USD per year)", "census", "work", 12, ("PINCP",)),
    Attribute("marital status", "Marital status", "census", "household", 13, ("MAR",)),
    Attribute("household type", "Household type", "census", "household", 14, ("HHT", "HHT2"), True),
    Attribute("family presence and age", "Children in the family", "census", "household", 15, ("HUPAC",), True),
    Attribute("place of birth", "Place of birth", "census", "about", 16, ("POBP",)),
    Attribute("citizenship", "Citizenship", "census", "about", 17, ("CIT",)),
    Attribute("veteran status", "Veteran status", "census", "about", 18, ("MIL",)),
    Attribute("disability", "Disability", "census", "health", 19, ("DIS",)),
    Attribute("health insurance", "Health insurance", "census", "health", 20, ("HICOV",)),
    Attribute("big five scores", "Big Five personality", "procedural", "personality", 21),
    Attribute("defining quirks", "Defining quirks", "procedural", "personality", 22),
    Attribute("mannerisms", "Mannerisms", "procedural", "personality", 23),
    Attribute("personal time", "Personal time", "procedural", "values", 24),
    Attribute("lifestyle", "Lifestyle", "procedural", "values", 25),
    Attribute("ideology", "Ideology", "procedural", "values", 26),
    Attribute("political views", "Political views", "procedural", "values", 27),
    Attribute("religion", "Religion", "procedural", "values", 28),
    Attribute("cognitive difficulty", "Cognitive difficulty", "census", "health", 29, ("DREM",)),
    Attribute("ability to speak english", "Ability to speak English", "census", "about", 30, ("ENG",)),
    Attribute("vision difficulty", "Vision difficulty", "census", "health", 31, ("DEYE",)),
    Attribute("fertility", "Gave birth in the last year", "census", "health", 32, ("FER",)),
    Attribute("hearing difficulty", "Hearing difficulty", "census", "health", 33, ("DEAR",)),
)

ATTRIBUTE_BY_KEY = {a.key: a for a in ATTRIBUTES}
ATTRIBUTE_KEYS = tuple(a.key for a in ATTRIBUTES)
CENSUS_ATTRIBUTES = tuple(a for a in ATTRIBUTES if a.source == "census")
