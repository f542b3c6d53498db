"""Read prompt files: PRISM ``conversations.jsonl``, PRISM's opening-prompt cluster CSV, or a plain CSV / JSONL.

The format is recognised from the file name and its first record. The whole file is read and checked first; any
error refuses it whole (with the line and the reason) and nothing is stored. Prompts are keyed by the sha256 of
their text, so a re-import adds only the new ones.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from benchmarks.prompts.models import Prompt, PromptSource, text_digest
from core.uploads import FileRefusedError

MAX_FILE_BYTES = 200 * 1024 * 1024  # PRISM's conversations.jsonl is ~100 MB
MAX_PROMPT_CHARS = 10_000
WRITE_BATCH = 1000


@dataclass(frozen=True)
class PromptRow:
    text: str
    source_id: str = ""
    topic: str = ""
    conversation_type: str = ""


@dataclass
class PromptFile:
    source: str
    rows: list[PromptRow] = field(default_factory=list)


@dataclass(frozen=True)
class PromptImportResult:
    source: str
    read: int
    created: int
    existing: int


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefusedError(
            [f"{name}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); save it as UTF-8"]
        ) from None


def _prompt_text(value: object, line: int, errors: list[str], what: str = "prompt") -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"line {line}: the {what} is missing or empty")
        return None
    if len(value) > MAX_PROMPT_CHARS:
        errors.append(f"line {line}: the {what} is {len(value):,} characters (limit {MAX_PROMPT_CHARS:,})")
        return None
    return value.strip()


def _read_jsonl(text: str) -> PromptFile:
    errors: list[str] = []
    records: list[tuple[int, dict]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            errors.append(f"line {number}: expected a JSON object")
            continue
        records.append((number, record))
    if errors:
        raise FileRefusedError(errors)
    if not records:
        raise FileRefusedError(["the file holds no records"])
    prism = "opening_prompt" in records[0][1]
    result = PromptFile(PromptSource.PRISM_CONVERSATIONS if prism else PromptSource.FILE)
    for number, record in records:
        if prism:
            prompt = _prompt_text(record.get("opening_prompt"), number, errors, "opening_prompt")
            source_id = str(record.get("conversation_id") or "")
            topic = str(record.get("topic") or record.get("cluster_id") or "")
            kind = str(record.get("conversation_type") or "")
        else:
            prompt = _prompt_text(record.get("prompt", record.get("text")), number, errors, "prompt (or text)")
            source_id = str(record.get("source_id") or record.get("id") or "")
            topic = str(record.get("topic") or "")
            kind = str(record.get("conversation_type") or record.get("question type") or "")
        if prompt is not None:
            result.rows.append(PromptRow(prompt, source_id[:128], topic[:128], kind[:64]))
    if errors:
        raise FileRefusedError(errors)
    return result


def _cluster_topic(row: dict[str, str]) -> str:
    if row.get("cluster_id", "").strip() == "-1":  # PRISM's outliers: no topic, left to our clustering
        return ""
    description = (row.get("gpt_description") or "").strip().strip('"').strip()
    return (description or f"cluster {row.get('cluster_id', '').strip()}")[:128]


def _read_csv(text: str) -> PromptFile:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    errors: list[str] = []
    if {"cluster_id", "top_texts"} <= columns:
        result = PromptFile(PromptSource.PRISM_CLUSTERS)
        for row in reader:
            number = reader.line_num
            try:
                texts = ast.literal_eval(row.get("top_texts") or "")
            except (ValueError, SyntaxError):
                errors.append(f"line {number}: top_texts is not a list of strings")
                continue
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                errors.append(f"line {number}: top_texts is not a list of strings")
                continue
            topic = _cluster_topic(row)
            for index, value in enumerate(texts):
                prompt = _prompt_text(value, number, errors, f"top_texts item {index + 1}")
                if prompt is not None:
                    source_id = f"cluster{row['cluster_id'].strip()}:{index}"
                    result.rows.append(PromptRow(prompt, source_id, topic))
    elif "prompt" in columns or "text" in columns:
        column = "prompt" if "prompt" in columns else "text"
        result = PromptFile(PromptSource.FILE)
        for row in reader:
            prompt = _prompt_text(row.get(column), reader.line_num, errors, column)
            if prompt is not None:
                result.rows.append(
                    PromptRow(
                        prompt,
                        (row.get("source_id") or row.get("id") or "")[:128],
                        (row.get("topic") or "")[:128],
                        (row.get("conversation_type") or "")[:64],
                    )
                )
    else:
        raise FileRefusedError(
            ["line 1: no prompt column: expected `prompt` or `text`, or PRISM's `cluster_id,…,top_texts`"]
        )
    if errors:
        raise FileRefusedError(errors)
    if not result.rows:
        raise FileRefusedError(["the file holds no prompts"])
    return result


def prompts_read(*, data: bytes, name: str) -> PromptFile:
    """Parse a prompts file (format from the name: .jsonl/.json → JSON Lines, else CSV); raises FileRefusedError."""
    text = _decode(data, name)
    if name.lower().endswith((".jsonl", ".json", ".ndjson")):
        return _read_jsonl(text)
    if name.lower().endswith((".csv", ".txt")):
        return _read_csv(text)
    raise FileRefusedError([f"{name}: use a .csv or .jsonl file"])


def prompts_import(*, data: bytes, name: str, progress: Callable[[int, int], None] | None = None) -> PromptImportResult:
    """Read and store the prompts of one file; existing texts (same sha256) are left as they are.

    The new prompts are written in batches that each commit, reporting ``progress(stored, distinct)`` after each
    (the import job's progress bar); the file was checked whole first, and a re-run skips what is stored.
    """
    parsed = prompts_read(data=data, name=name)
    new = Prompt.objects.unstored(
        Prompt.from_file(
            text=row.text,
            source=parsed.source,
            source_id=row.source_id,
            topic=row.topic,
            conversation_type=row.conversation_type,
        )
        for row in parsed.rows
    )
    distinct = len({text_digest(row.text) for row in parsed.rows})
    existing = distinct - len(new)
    stored = existing
    if progress is not None:
        progress(stored, distinct)
    for start in range(0, len(new), WRITE_BATCH):
        batch = new[start : start + WRITE_BATCH]
        with transaction.atomic():
            Prompt.objects.bulk_create(batch, ignore_conflicts=True)
        stored += len(batch)
        if progress is not None:
            progress(stored, distinct)
    return PromptImportResult(parsed.source, len(parsed.rows), len(new), existing)
