"""Import preference pairs from JSONL or CSV: a prompt and two answers, for any persona or keyed by persona.

Each record has ``prompt``, ``chosen`` and ``rejected`` (or ``answer_a`` / ``answer_b``, read as chosen /
rejected), and optionally ``persona`` (a persona public_id; empty = persona-independent), ``source_id``, ``topic``,
``critique`` and ``split``. The whole file is checked first; any error stops the import and nothing is stored.
Re-importing a file updates the pairs it already created instead of duplicating them.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from benchmarks.models import PairSplit, PreferencePair, Prompt, text_digest
from personas.models import Persona

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 20_000
MAX_ERRORS_REPORTED = 20
FIELDS = {"prompt", "chosen", "rejected", "answer_a", "answer_b", "persona", "source_id", "topic", "critique", "split"}


class PairImportError(Exception):
    """The file cannot be imported; ``errors`` lists each problem with its line number."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_ERRORS_REPORTED]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        super().__init__("; ".join(shown) + more)


@dataclass
class PairImportResult:
    created: int = 0
    updated: int = 0
    prompts_created: int = 0
    pair_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    prompt: str
    chosen: str
    rejected: str
    persona: str
    source_id: str
    topic: str
    critique: str
    split: str


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ValueError(f"{key} must be text")
    return str(value).strip()


def _row(line: int, record: Any) -> tuple[_Row | None, list[str]]:
    if not isinstance(record, dict):
        return None, [f"line {line}: expected an object with prompt, chosen and rejected"]
    errors: list[str] = []
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        errors.append(f"line {line}: unknown field(s) {', '.join(unknown)}")
    try:
        values = {key: _text(record, key) for key in FIELDS}
    except ValueError as exc:
        return None, [f"line {line}: {exc}"]
    chosen = values["chosen"] or values["answer_a"]
    rejected = values["rejected"] or values["answer_b"]
    for name, value in (("prompt", values["prompt"]), ("chosen", chosen), ("rejected", rejected)):
        if not value:
            errors.append(f"line {line}: {name} is missing or empty")
        elif len(value) > MAX_TEXT_CHARS:
            errors.append(f"line {line}: {name} is longer than {MAX_TEXT_CHARS} characters")
    if chosen and chosen == rejected:
        errors.append(f"line {line}: the two answers are identical")
    if values["persona"]:
        try:
            uuid.UUID(values["persona"])
        except ValueError:
            errors.append(f"line {line}: persona {values['persona']!r} is not a persona public_id")
    split = values["split"] or PairSplit.TRAIN
    if split not in PairSplit.values:
        errors.append(f"line {line}: split must be one of {', '.join(PairSplit.values)}")
    if errors:
        return None, errors
    return _Row(
        line, values["prompt"], chosen, rejected, values["persona"], values["source_id"][:128],
        values["topic"][:128], values["critique"], split,
    ), []  # fmt: skip


def _records(content: str, *, file_format: str) -> list[tuple[int, Any]]:
    if file_format == "jsonl":
        records = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise PairImportError([f"line {number}: not valid JSON ({exc.msg})"]) from None
        return records
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(content))
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise PairImportError(["line 1: the CSV header must name prompt, chosen and rejected columns"])
        try:
            return [(reader.line_num, dict(row)) for row in reader if any((v or "").strip() for v in row.values())]
        except csv.Error as exc:
            raise PairImportError([f"line {reader.line_num}: {exc}"]) from None
    raise PairImportError([f"unknown format {file_format!r}: use jsonl or csv"])


def pairs_import(*, data: bytes, file_format: str) -> PairImportResult:
    """Validate every record, then create or update the prompts and pairs in one transaction."""
    if len(data) > MAX_FILE_BYTES:
        raise PairImportError([f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"])
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PairImportError(["the file is not UTF-8 text"]) from None
    rows: list[_Row] = []
    errors: list[str] = []
    for line, record in _records(content, file_format=file_format.lower()):
        row, row_errors = _row(line, record)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append("the file holds no pairs")
    public_ids = {row.persona for row in rows if row.persona}
    personas = {str(p.public_id): p for p in Persona.objects.filter(public_id__in=public_ids)}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.persona and row.persona not in personas:
            errors.append(f"line {row.line}: no persona has public_id {row.persona}")
        key = (row.persona, text_digest(row.prompt))
        if key in seen:
            errors.append(f"line {row.line}: the same prompt appears twice for this persona")
        seen.add(key)
    if errors:
        raise PairImportError(errors)

    result = PairImportResult()
    with transaction.atomic():
        for row in rows:
            prompt, created = Prompt.objects.get_or_create(
                text_sha256=text_digest(row.prompt),
                defaults={"text": row.prompt, "source_id": row.source_id, "topic": row.topic},
            )
            result.prompts_created += int(created)
            pair, created = PreferencePair.objects.update_or_create(
                persona=personas.get(row.persona),
                prompt=prompt,
                dataset=None,
                defaults={"chosen": row.chosen, "rejected": row.rejected, "critique": row.critique, "split": row.split},
            )
            result.pair_ids.append(pair.pk)
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result
