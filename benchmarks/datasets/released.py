"""Import a file with the released PERSONA dataset's columns (or our export) as a dataset of pairs.

Columns: ``persona`` (``key: value`` lines), ``instruction``, ``original`` (y_l), ``data`` (y_w), optionally
``critique``, ``question type``, ``split``, ``topic``, ``prompt_source_id`` and ``persona_id`` (our export's public
id, which finds the persona again). Parquet, JSON Lines or CSV. The whole file is checked first; any error refuses
it whole with the line and the reason, and nothing is stored.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from benchmarks.datasets.models import DatasetItem, DatasetOrigin, ItemStatus, PreferenceDataset
from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptSource, text_digest
from core.uploads import FileRefusedError
from personas.formats import PersonaFormatError, persona_from_text, persona_to_text
from personas.models import Persona, PersonaSource, PersonaStatus

REQUIRED = ("persona", "instruction", "original", "data")


@dataclass(frozen=True)
class _Row:
    line: int
    persona: dict[str, str]
    persona_id: str
    instruction: str
    original: str
    critique: str
    data: str
    split: str
    topic: str
    kind: str
    source_id: str


def _records(data: bytes, name: str) -> list[dict[str, Any]]:
    lower = name.lower()
    if lower.endswith(".parquet"):
        try:
            return pq.read_table(io.BytesIO(data)).to_pylist()
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise FileRefusedError([f"{name}: not a readable Parquet file ({exc})"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefusedError([f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8"]) from None
    if lower.endswith((".jsonl", ".json", ".ndjson")):
        records, errors = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(f"line {number}: not valid JSON ({exc.msg})")
                    continue
                records.append(record if isinstance(record, dict) else {})
        if errors:
            raise FileRefusedError(errors)
        return records
    if lower.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    raise FileRefusedError([f"{name}: use a .parquet, .jsonl or .csv file"])


def _rows(records: list[dict[str, Any]]) -> list[_Row]:
    errors: list[str] = []
    rows: list[_Row] = []
    seen: dict[tuple[str, str], int] = {}
    for number, record in enumerate(records, start=1):
        missing = [c for c in REQUIRED if not str(record.get(c) or "").strip()]
        if missing:
            errors.append(f"line {number}: missing {', '.join(missing)}")
            continue
        try:
            persona = persona_from_text(str(record["persona"]))
        except PersonaFormatError as exc:
            errors.append(f"line {number}: persona: {exc}")
            continue
        original, chosen = str(record["original"]).strip(), str(record["data"]).strip()
        if original == chosen:
            errors.append(f"line {number}: original and data are the same text")
            continue
        split = str(record.get("split") or PairSplit.TRAIN)
        if split not in PairSplit.values:
            errors.append(f"line {number}: split {split!r} is not one of {', '.join(PairSplit.values)}")
            continue
        instruction = str(record["instruction"]).strip()
        key = (persona_to_text(persona), text_digest(instruction))
        if key in seen:
            errors.append(f"line {number}: the same persona and instruction as line {seen[key]}")
            continue
        seen[key] = number
        rows.append(
            _Row(
                number,
                persona,
                str(record.get("persona_id") or ""),
                instruction,
                original,
                str(record.get("critique") or "").strip(),
                chosen,
                split,
                str(record.get("topic") or "")[:128],
                str(record.get("question type") or "")[:64],
                str(record.get("prompt_source_id") or "")[:128],
            )
        )
    if errors:
        raise FileRefusedError(errors)
    if not rows:
        raise FileRefusedError(["the file holds no pairs"])
    return rows


def _personas(rows: list[_Row]) -> dict[str, Persona]:
    """persona text → Persona: by public id when the file has ours, else by identical attributes, else a new one."""
    public_ids = set()
    for row in rows:
        with contextlib.suppress(ValueError):
            public_ids.add(str(uuid.UUID(row.persona_id)))
    by_text: dict[str, Persona] = {}
    by_public = {str(p.public_id): p for p in Persona.objects.filter(public_id__in=public_ids)}
    existing = {persona_to_text(p.attributes): p for p in Persona.objects.filter(source=PersonaSource.IMPORTED)}
    new: list[Persona] = []
    for row in rows:
        text = persona_to_text(row.persona)
        if text in by_text:
            continue
        persona = by_public.get(row.persona_id) or existing.get(text)
        if persona is None:
            persona = Persona(attributes=row.persona, source=PersonaSource.IMPORTED, status=PersonaStatus.CONSISTENT)
            new.append(persona)
        by_text[text] = persona
    Persona.objects.bulk_create(new)
    return by_text


def dataset_import_released(*, name: str, data: bytes, filename: str, created_by: Any = None) -> PreferenceDataset:
    """Create dataset ``name`` from a released-PERSONA-columns file (all or nothing)."""
    if PreferenceDataset.objects.filter(name=name).exists():
        raise FileRefusedError([f"a dataset named {name!r} exists already"])
    rows = _rows(_records(data, filename))
    with transaction.atomic():
        dataset = PreferenceDataset.objects.create(
            name=name,
            origin=DatasetOrigin.IMPORTED,
            description=f"Imported from {filename}.",
            planned_at=timezone.now(),
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        personas = _personas(rows)
        Prompt.objects.bulk_create(
            Prompt.objects.unstored(
                Prompt.from_file(
                    text=row.instruction,
                    source=PromptSource.PAIRS,
                    source_id=row.source_id,
                    topic=row.topic,
                    conversation_type=row.kind,
                    form_check=FormCheck.PASSED,
                    controversy=ControversyVerdict.CONTROVERSIAL,
                )
                for row in rows
            )
        )
        prompts = Prompt.objects.ids_by_digest(text_digest(row.instruction) for row in rows)
        pairs = PreferencePair.objects.bulk_create(
            [
                PreferencePair(
                    dataset=dataset,
                    persona=personas[persona_to_text(row.persona)],
                    prompt_id=prompts[text_digest(row.instruction)],
                    rejected=row.original,
                    critique=row.critique,
                    chosen=row.data,
                    split=row.split,
                )
                for row in rows
            ],
            batch_size=2000,
        )
        DatasetItem.objects.bulk_create(
            [
                DatasetItem(
                    dataset=dataset,
                    persona_id=pair.persona_id,
                    prompt_id=pair.prompt_id,
                    split=pair.split,
                    status=ItemStatus.DONE,
                    critique=pair.critique,
                    pair=pair,
                )
                for pair in pairs
            ],
            batch_size=2000,
        )
    return dataset
