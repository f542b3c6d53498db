"""Import benchmark: a 20 MB preference-pairs file (JSON Lines) through ``pairs_import``, the service
the import job runs: every line checked, then prompts and pairs written in bulk batches. Target: well under a
minute (the same file took minutes row by row, past gunicorn's 30 s request timeout)."""

from __future__ import annotations

import json
import sys
import time

from perf.result import Result

NAME = "import"
TARGET_BYTES = 20 * 1024 * 1024 - 64 * 1024  # just under the 20 MB upload limit
SOURCE = "perf-import"


def pairs_file(target_bytes: int = TARGET_BYTES) -> tuple[bytes, int]:
    """Distinct persona-independent pairs with ~1 KB of text each, up to ``target_bytes``."""
    filler = "They would weigh the cost, the time it takes and what their family needs before anything else. " * 3
    lines: list[str] = []
    size = 0
    while True:
        i = len(lines)
        line = json.dumps(
            {
                "prompt": f"Question {i}: should a household like this one change how it plans its week? {filler}",
                "chosen": f"Answer {i} that fits the person: {filler}",
                "rejected": f"Answer {i} that ignores them: {filler[::-1]}",
                "source_id": f"{SOURCE}-{i}",
                "topic": "planning",
            }
        )
        if size + len(line) + 1 > target_bytes:
            break
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode(), len(lines)


def run() -> list[Result]:
    from django.core.management import call_command

    from benchmarks.pairs.importing import pairs_import
    from benchmarks.pairs.models import PreferencePair
    from benchmarks.prompts.models import Prompt

    call_command("migrate", verbosity=0)
    data, count = pairs_file()
    size_mb = len(data) / (1024 * 1024)
    print(f"  {count:,} pairs, {size_mb:.1f} MB", file=sys.stderr)
    try:
        started = time.perf_counter()
        result = pairs_import(data=data, file_format="jsonl")
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = pairs_import(data=data, file_format="jsonl")  # the same file again: every pair found, none written
        same_seconds = time.perf_counter() - started
        edited = data.replace(b"that fits the person", b"that suits the person")
        started = time.perf_counter()
        pairs_import(data=edited, file_format="jsonl")  # every pair's chosen answer changed: all rewritten
        update_seconds = time.perf_counter() - started
    finally:
        PreferencePair.objects.filter(prompt__source_id__startswith=SOURCE).delete()
        Prompt.objects.filter(source_id__startswith=SOURCE).delete()
    if (result.created, again.updated) != (count, count):
        raise RuntimeError(f"expected {count} pairs created then found again, got {result} and {again}")
    note = f"{count:,} pairs, {size_mb:.0f} MB JSONL"
    return [
        Result(NAME, "pairs import (20 MB)", seconds, "s", "< 30", seconds < 30, note),
        Result(NAME, "pairs import throughput", count / seconds, "pairs/s", note="was ~360 row by row"),
        Result(NAME, "pairs re-import, unchanged", same_seconds, "s", "< 30", same_seconds < 30, note),
        Result(NAME, "pairs re-import, all edited", update_seconds, "s", "< 60", update_seconds < 60, note),
    ]
