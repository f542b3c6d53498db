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

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from benchmarks.pairs.models import PairBatch, PairSplit, PreferencePair
from benchmarks.prompts.models import Prompt, PromptSource, text_digest
from core.jobs import JobError, JobRun
from core.models import Job
from core.text import text_problem
from core.uploads import FileRefusedError, name_unique, upload_discard, upload_job_start, upload_path
from personas.models import Persona

PAIRS_IMPORT_JOB = "benchmarks.pairs_import"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 20_000
WRITE_BATCH = 2000
EXTRA_CELLS = "\0extra"  # DictReader's key for cells beyond the header (never a real column name)
FIELDS = {"prompt", "chosen", "rejected", "answer_a", "answer_b", "persona", "source_id", "topic", "critique", "split"}


@dataclass
class PairImportResult:
    batch: PairBatch | None = None
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
    text = str(value).strip()
    problem = text_problem(text)
    if problem:
        raise ValueError(f"{key} {problem}")
    return text


def _row(line: int, record: Any) -> tuple[_Row | None, list[str]]:
    if not isinstance(record, dict):
        return None, [f"line {line}: expected an object with prompt, chosen and rejected"]
    errors: list[str] = []
    if record.get(EXTRA_CELLS):
        errors.append(f"line {line}: the row has {len(record[EXTRA_CELLS])} more cell(s) than the header names")
    unknown = sorted(str(key)[:40] for key in set(record) - FIELDS - {EXTRA_CELLS})
    if unknown:
        errors.append(f"line {line}: unknown field(s) {', '.join(map(repr, unknown))}")
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
        line,
        values["prompt"],
        chosen,
        rejected,
        values["persona"],
        values["source_id"][:128],
        values["topic"][:128],
        values["critique"],
        split,
    ), []


def _records(content: str, *, file_format: str) -> list[tuple[int, Any]]:
    if file_format == "jsonl":
        records = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise FileRefusedError([f"line {number}: not valid JSON ({exc.msg})"]) from None
            except RecursionError:
                raise FileRefusedError([f"line {number}: the JSON is nested too deeply"]) from None
            except ValueError as exc:  # e.g. an integer with more digits than Python converts
                raise FileRefusedError([f"line {number}: not valid JSON ({exc})"]) from None
        return records
    if file_format == "csv":
        # strict: a quote left open runs to the end of the file; say so instead of "chosen is missing".
        reader = csv.DictReader(io.StringIO(content, newline=""), restkey=EXTRA_CELLS, strict=True)
        rows = []
        try:
            if not reader.fieldnames or "prompt" not in reader.fieldnames:
                raise FileRefusedError(["line 1: the CSV header must name prompt, chosen and rejected columns"])
            start = reader.line_num
            for row in reader:
                if any(v.strip() if isinstance(v, str) else v for v in row.values()):
                    rows.append((reader.line_num, row))
                start = reader.line_num
        except csv.Error as exc:
            hint = " (a quote is opened and never closed)" if "end of data" in str(exc) else ""
            # The row that broke started on the line after the previous row ended.
            raise FileRefusedError([f"line {start + 1}: not valid CSV: {exc}{hint}"]) from None
        return rows
    raise FileRefusedError([f"unknown format {file_format!r}: use jsonl or csv"])


def pairs_import(
    *, data: bytes, file_format: str, file_name: str = "", batch_name: str = "", run: JobRun | None = None
) -> PairImportResult:
    """Validate every record, then create or update the prompts and pairs in bulk (nothing is written unless the
    whole file is valid). With ``run`` (the import job), progress is reported per written batch.

    The pairs written join one new batch (``batch_name``, default the file name and the time), which studies
    select questions by; a pair imported again moves to the newer batch.
    """
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefusedError(["the file is not UTF-8 text"]) from None
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
        raise FileRefusedError(errors)

    default_name = f"{file_name or 'Pairs'} ({timezone.localtime():%Y-%m-%d %H:%M})"
    batch = PairBatch.objects.create(
        name=name_unique(queryset=PairBatch.objects.all(), name=(batch_name.strip() or default_name)[:190]),
        file_name=file_name[:255],
    )
    return _pairs_write(rows=rows, personas=personas, batch=batch, run=run)


def _pairs_write(
    *, rows: list[_Row], personas: dict[str, Persona], batch: PairBatch, run: JobRun | None
) -> PairImportResult:
    """Upsert the validated rows in batches: a few bulk statements per ``WRITE_BATCH`` rows.

    Each batch commits on its own so a job's progress shows; the rows were all validated first, so bad input
    stores nothing, and a batch is an upsert keyed by (persona, prompt), so a resumed job redoes nothing twice.
    """
    result = PairImportResult(batch=batch)
    if run is not None:
        run.set_total(len(rows), already_done=0)
    for start in range(0, len(rows), WRITE_BATCH):
        chunk = rows[start : start + WRITE_BATCH]
        with transaction.atomic():
            prompts = _prompts_ensure(chunk, result)
            keys = [
                (personas[row.persona].pk if row.persona else None, prompts[text_digest(row.prompt)]) for row in chunk
            ]
            existing = {
                (pair.persona_id, pair.prompt_id): pair
                # Imported pairs only: pairs of a generated dataset are keyed by their dataset too.
                for pair in PreferencePair.objects.filter(
                    prompt_id__in={prompt for _, prompt in keys}, dataset__isnull=True
                )
            }
            created: list[PreferencePair] = []
            updated: list[PreferencePair] = []
            for row, (persona_id, prompt_id) in zip(chunk, keys, strict=True):
                pair = existing.get((persona_id, prompt_id))
                if pair is None:
                    pair = PreferencePair(persona_id=persona_id, prompt_id=prompt_id)
                    created.append(pair)
                else:
                    updated.append(pair)  # it moves to the new batch
                pair.chosen, pair.rejected, pair.critique, pair.split = (
                    row.chosen,
                    row.rejected,
                    row.critique,
                    row.split,
                )
                pair.batch = batch
            PreferencePair.objects.bulk_create(created)
            # Small batches: Django writes a bulk update as one CASE per field, which slows down fast with size.
            fields = ["chosen", "rejected", "critique", "split", "batch"]
            PreferencePair.objects.bulk_update(updated, fields, batch_size=100)
        result.created += len(created)
        result.updated += len(updated)
        result.pair_ids.extend(pair.pk for pair in (*updated, *created))
        if run is not None:
            run.advance(done=len(chunk))
    return result


def _prompts_ensure(batch: list[_Row], result: PairImportResult) -> dict[str, int]:
    """The prompt id for each text digest in ``batch``, creating the prompts not stored yet."""
    missing = Prompt.objects.unstored(
        Prompt.from_file(text=row.prompt, source=PromptSource.PAIRS, source_id=row.source_id, topic=row.topic)
        for row in batch
    )
    Prompt.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent import may have added one
    result.prompts_created += len(missing)
    return Prompt.objects.ids_by_digest(text_digest(row.prompt) for row in batch)


def pairs_import_start(*, upload: UploadedFile, started_by: Any = None) -> Job:
    """Store the uploaded pairs file and queue its import as a job (``.csv`` is CSV, anything else JSONL).

    The request only copies the file; checking and writing run in a worker, so a file of any allowed size
    imports without the request timing out. The same file sent twice while it imports is one job.
    """
    file_format = "csv" if (upload.name or "").lower().endswith(".csv") else "jsonl"
    return upload_job_start(
        kind=PAIRS_IMPORT_JOB,
        upload=upload,
        max_bytes=MAX_FILE_BYTES,
        started_by=started_by,
        params={"file_format": file_format},
    )


def pairs_import_batch_name(job: Job) -> str:
    """The batch an import job writes: named after the file and the job, so its page can link to the pairs."""
    return f"{(job.params.get('name') or 'Pairs')[-150:]} (import #{job.pk})"


def pairs_import_batch(job: Job) -> PairBatch | None:
    """The batch the import ``job`` wrote, once it has written one."""
    return PairBatch.objects.filter(name=pairs_import_batch_name(job)).first()


def pairs_import_run(run: JobRun) -> PairImportResult:
    """The import job: the stored file through ``pairs_import``; the file is removed once the job is done with it."""
    params = run.params
    try:
        return pairs_import(
            data=upload_path(params["path"]).read_bytes(),
            file_format=params["file_format"],
            file_name=params["name"],
            batch_name=pairs_import_batch_name(run.job),
            run=run,
        )
    except FileRefusedError as exc:
        raise JobError(f"{params['name']}: {exc}. Nothing was imported.") from None
    finally:
        upload_discard(params["folder"])
