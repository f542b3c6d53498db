"""The official PUMS data dictionary CSV (``PUMS_Data_Dictionary_YYYY.csv``): NAME rows describe a variable, VAL
rows give a code (or a code range) and its label. Blank codes ("b", "bb", …) mean "not applicable"."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from personas.pums.errors import PumsInputError

_YEAR_IN_NAME = re.compile(r"(20\d\d)")
_BLANK = re.compile(r"^b+$")


@dataclass
class Variable:
    name: str
    kind: str  # "C" (character code) or "N" (number)
    description: str
    labels: dict[str, str] = field(default_factory=dict)  # exact code → label
    ranges: list[tuple[str, str, str]] = field(default_factory=list)  # (low, high, label) for code ranges
    blank_label: str = ""

    def decode(self, code: str) -> str | None:
        """The label of ``code``; None when blank (not applicable); the code itself when the dictionary has none."""
        if code == "":
            return None
        label = self.labels.get(code)
        if label is not None:
            return label
        for low, high, range_label in self.ranges:
            if self.kind == "N":
                try:
                    if float(low) <= float(code) <= float(high):
                        return code
                except ValueError:
                    continue
            elif len(low) == len(code) and low <= code <= high:
                return range_label
        return code


@dataclass
class PumsDictionary:
    path: Path
    year: int | None
    variables: dict[str, Variable]

    def __contains__(self, name: str) -> bool:
        return name in self.variables

    def decode(self, name: str, code: str) -> str | None:
        variable = self.variables.get(name)
        if variable is None:
            return code or None
        return variable.decode(code)

    def codebook(self, names: list[str]) -> dict[str, dict[str, str]]:
        """{variable: {code: label}} for the exact codes of ``names`` (stored with a dataset)."""
        return {name: dict(self.variables[name].labels) for name in names if name in self.variables}


def _year(path: Path, variables: dict[str, Variable]) -> int | None:
    serial = variables.get("SERIALNO")
    for low, _high, _label in serial.ranges if serial else []:
        if low[:4].isdigit():
            return int(low[:4])
    match = _YEAR_IN_NAME.search(path.name)
    return int(match.group(1)) if match else None


def dictionary_load(path: str | Path) -> PumsDictionary:
    """Parse a PUMS data dictionary CSV; raise ``PumsInputError`` when it is not one."""
    path = Path(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise PumsInputError(path, "the dictionary file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PumsInputError(path, f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    variables: dict[str, Variable] = {}
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        record = row[0].strip()
        if record == "NAME" and len(row) >= 5:
            name = row[1].strip()
            # Variables appear in the housing and the person section; the first description wins.
            variables.setdefault(name, Variable(name=name, kind=row[2].strip(), description=row[4].strip()))
        elif record == "VAL" and len(row) >= 7:
            variable = variables.get(row[1].strip())
            if variable is None:
                raise PumsInputError(path, f"line {line_number}: a VAL row for {row[1]!r} comes before its NAME row")
            low, high, label = row[4].strip(), row[5].strip(), row[6].strip()
            if _BLANK.match(low):
                variable.blank_label = label
            elif low == high:
                variable.labels.setdefault(low, label)
            else:
                variable.ranges.append((low, high, label))
        else:
            raise PumsInputError(
                path, f"line {line_number} is not a NAME or VAL row; this is not a PUMS data dictionary CSV"
            )
    if not variables:
        raise PumsInputError(path, "holds no NAME rows; this is not a PUMS data dictionary CSV")
    return PumsDictionary(path=path, year=_year(path, variables), variables=variables)
