"""How persona values and durations read to a person: the one place every page, card and export formats them.

Stored attributes keep the census' own values (income "102323.0", occupation "SAL-Retail Salespersons", an
undecoded code "3850"); pages show ``attribute_display`` of them. Exports write both: the raw value in its own
column and the readable one beside it.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from personas.attributes import ATTRIBUTE_BY_KEY, SECTIONS, Attribute

# PUMS labels of occupations and industries carry a three-letter group prefix: "SAL-Retail Salespersons".
_PUMS_PREFIX = re.compile(r"^[A-Z]{3}-(?=\S)")
_BARE_CODE = re.compile(r"^\d{1,6}$")
_MONEY_KEYS = frozenset({"income"})
_NUMBER_KEYS = frozenset({"age"})


def money_display(value: object) -> str | None:
    """Whole dollars with thousands separators ("$102,323"); a loss reads "-$1,200 (loss)"; None if not a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    dollars = round(number)
    if dollars < 0:
        return f"-${-dollars:,} (loss)"
    return f"${dollars:,}"


def attribute_display(key: str, value: object) -> str:
    """One attribute value as a participant should read it; unknown keys pass through as text."""
    if value is None:
        return ""
    text = str(value).strip()
    if key in _MONEY_KEYS:
        money = money_display(text)
        return f"{money} a year" if money else text
    if key in _NUMBER_KEYS:
        try:
            return str(round(float(text)))
        except ValueError:
            return text
    attribute = ATTRIBUTE_BY_KEY.get(key)
    if attribute is not None and attribute.source == "census" and _BARE_CODE.match(text):
        # The census dictionary had no label for this code (another survey year, a recoded category).
        return f"{attribute.label}: census code {text} (no description available)"
    return _PUMS_PREFIX.sub("", text)


def attributes_display(attributes: dict[str, object]) -> dict[str, str]:
    """Every present attribute, formatted (same keys as the stored attributes)."""
    return {key: attribute_display(key, value) for key, value in attributes.items() if value not in (None, "")}


def persona_sections(attributes: dict[str, object]) -> list[tuple[str, list[tuple[Attribute, str]]]]:
    """The persona's present attributes, formatted, grouped into display sections in display order."""
    ordered = sorted(ATTRIBUTE_BY_KEY.values(), key=lambda a: a.order)
    sections = []
    for section, title in SECTIONS:
        rows = [
            (a, attribute_display(a.key, attributes[a.key]))
            for a in ordered
            if a.section == section and attributes.get(a.key) not in (None, "")
        ]
        if rows:
            sections.append((title, rows))
    return sections


def persona_summary(*, pk: int | None, attributes: dict[str, object]) -> str:
    """A one-line label to tell personas apart in lists: "#3078 · 32 · Female · Retail Salespersons"."""
    parts = [f"#{pk}" if pk is not None else "new persona"]
    for key in ("age", "sex", "occupation category"):
        if attributes.get(key) not in (None, ""):
            parts.append(attribute_display(key, attributes[key]))
    return " · ".join(parts)


def duration_display(value: timedelta | float | int | None) -> str:
    """A duration as people write it: "7 s", "3 min 12 s", "1 h 05 min"; a number is seconds."""
    if value is None:
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if math.isnan(seconds):
        return ""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def paragraphs(text: str) -> list[str]:
    """Prose split at blank lines, each paragraph's hard line wraps joined (no break mid-sentence)."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return [" ".join(line.strip() for line in block.splitlines() if line.strip()) for block in blocks if block.strip()]
