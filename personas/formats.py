"""The PERSONA dataset's formats: the ``key: value`` line string, the 33-key dict, and JSON Lines of either."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from core.text import text_problem
from personas.attributes import ATTRIBUTE_BY_KEY, ATTRIBUTES
from personas.display import attributes_display

_ORDERED_KEYS = tuple(a.key for a in sorted(ATTRIBUTES, key=lambda a: a.order))


class PersonaFormatError(ValueError):
    """Text that is not a PERSONA persona; the message says where and why."""


def _clean(attributes: dict[str, object]) -> dict[str, str]:
    """Known keys only; null = not applicable (dropped); an empty value is kept, as the PERSONA text has it.
    Text PostgreSQL cannot store (NUL, lone surrogates) is refused here, at the boundary."""
    unknown = sorted(str(key)[:60] for key in set(attributes) - set(ATTRIBUTE_BY_KEY))
    if unknown:
        raise PersonaFormatError(f"unknown attribute key(s): {', '.join(map(repr, unknown))}")
    cleaned = {key: str(value).strip() for key, value in attributes.items() if value is not None}
    for key, value in cleaned.items():
        problem = text_problem(value)
        if problem:
            raise PersonaFormatError(f"{key} {problem}")
    return cleaned


def persona_to_text(attributes: dict[str, str], *, order: Sequence[str] = ()) -> str:
    """PERSONA's string form: one ``key: value`` line per present attribute, each ending in a newline.

    Keys listed in ``order`` (the order an imported text had) come first, the others in registry order. An empty
    value is written as ``key: `` — so a released PERSONA string, parsed and written back with its key order, is
    byte-identical (PERSONA lists the optional census keys before "big five scores", the registry after "religion").
    """
    keys = [key for key in order if key in attributes]
    keys += [key for key in _ORDERED_KEYS if key in attributes and key not in keys]
    return "".join(f"{key}: {attributes[key]}\n" for key in keys)


def persona_from_text(text: str) -> dict[str, str]:
    """Parse the ``key: value`` line string, keeping the keys in the text's order and empty values as "".
    (Values may contain colons, as the Big Five line does.)"""
    attributes: dict[str, object] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.partition(":")
        if not separator:
            raise PersonaFormatError(f"line {number} has no 'key: value' form: {line[:60]!r}")
        attributes[key.strip()] = value.strip()
    if not attributes:
        raise PersonaFormatError("the persona text is empty")
    return _clean(attributes)


def persona_to_dict(attributes: dict[str, str]) -> dict[str, str | None]:
    """The 33-key dict (registry order); a key that does not apply is None, an empty one "" (always text)."""
    return {key: None if attributes.get(key) is None else str(attributes[key]) for key in _ORDERED_KEYS}


def persona_from_dict(data: dict[str, object]) -> dict[str, str]:
    return _clean(data)


def persona_from_json_value(value: object) -> dict[str, str]:
    """One persona from a JSON value: the line string, a 33-key dict, or {"persona": …} / {"attributes": …}."""
    if isinstance(value, str):
        return persona_from_text(value)
    if isinstance(value, dict):
        if isinstance(value.get("persona"), str):
            return persona_from_text(value["persona"])
        if isinstance(value.get("attributes"), dict):
            return persona_from_dict(value["attributes"])
        return persona_from_dict(value)
    raise PersonaFormatError(f"expected a string or an object, got {type(value).__name__}")


def _json_load(text: str, *, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PersonaFormatError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise PersonaFormatError(f"{where}: the JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise PersonaFormatError(f"{where}: not valid JSON ({exc})") from None


def personas_read_json(text: str) -> Iterator[dict[str, str]]:
    """Personas from a JSON list (PERSONA's file of strings) or JSON Lines; errors name the line or item."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        items = _json_load(text, where="the file")
        if not isinstance(items, list):
            raise PersonaFormatError("the file starts like a JSON list but is not one")
        for position, item in enumerate(items, start=1):
            try:
                yield persona_from_json_value(item)
            except PersonaFormatError as exc:
                raise PersonaFormatError(f"item {position}: {exc}") from None
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value = _json_load(line, where=f"line {number}")
        try:
            yield persona_from_json_value(value)
        except PersonaFormatError as exc:
            raise PersonaFormatError(f"line {number}: {exc}") from None


@dataclass(frozen=True)
class PersonaRow:
    """One persona as the JSONL export writes it."""

    id: str
    status: str
    attributes: dict[str, str]
    order: Sequence[str] = ()  # the imported key order (see ``persona_to_text``)
    key: str | None = None  # the deterministic generation key of a generated persona
    sources: dict[str, str] = field(default_factory=dict)  # key -> census | procedural | llm (``attribute_sources``)


def personas_write_jsonl(rows: Iterable[PersonaRow]) -> Iterator[str]:
    """JSON Lines, one persona a line: {"id", "key", "status", "persona" (line string), "attributes" (33-key dict,
    the raw census values), "display" (the same keys as people read them: money, labels without PUMS prefixes)}.

    Nothing in it depends on the database: a generated persona's id derives from its generation key (``key``), so
    the same seed on the same census data exports the same bytes.
    """
    for row in rows:
        record = {
            "id": row.id,
            "key": row.key,
            "status": row.status,
            "persona": persona_to_text(row.attributes, order=row.order),
            "attributes": persona_to_dict(row.attributes),
            "display": attributes_display(row.attributes),
            "sources": row.sources,
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"
