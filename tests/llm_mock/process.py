"""Run the mock server in its own process, so a benchmark measures only the client's CPU time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def spawn_mock_server(**config: Any) -> Iterator[str]:
    """Start ``python -m tests.llm_mock`` with ``config`` (MockConfig fields); yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_mock", json.dumps(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"mock server did not start: {url!r}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
