from __future__ import annotations

from pathlib import Path


class PumsInputError(Exception):
    """A PUMS file that cannot be imported; the message names the file and the problem, fit to show the user."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.filename = Path(path).name
        self.problem = problem
        super().__init__(f"{self.filename}: {problem}")
