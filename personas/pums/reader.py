"""Streamed reading of PUMS CSV files (plain or inside the Census zip) with pyarrow: only the wanted columns, every
code as a string (codes are zero-padded: ``SCHL=09``), in record batches of bounded size."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
from pyarrow import csv as pacsv

from personas.pums.errors import PumsInputError

BLOCK_SIZE = 4 * 1024 * 1024  # bytes of CSV text per batch; with the reader's read-ahead this bounds memory
_SNIFF_BYTES = 256 * 1024


@contextmanager
def csv_open(path: str | Path) -> Iterator[BinaryIO]:
    """Open a PUMS CSV, or the one ``.csv`` member of a Census zip, as a binary stream."""
    path = Path(path)
    if not path.exists():
        raise PumsInputError(path, "does not exist")
    if path.stat().st_size == 0:
        raise PumsInputError(path, "is empty")
    with path.open("rb") as head:
        is_zip = head.read(4) == b"PK\x03\x04"
    if not is_zip:
        with path.open("rb") as handle:
            yield handle
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise PumsInputError(path, f"is a truncated or damaged zip file ({exc})") from None
    with archive:
        members = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
        if len(members) != 1:
            names = ", ".join(info.filename for info in archive.infolist()) or "nothing"
            raise PumsInputError(path, f"the zip must hold exactly one .csv file; it holds {names}")
        try:
            with archive.open(members[0]) as member:
                yield member  # type: ignore[misc]
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise PumsInputError(path, f"is a truncated or damaged zip file ({exc})") from None


def csv_header(path: str | Path) -> list[str]:
    """The column names of a PUMS CSV; checks that the text is UTF-8 and that there is at least one data row."""
    path = Path(path)
    try:
        with csv_open(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise PumsInputError(path, f"is a truncated or damaged zip file ({exc})") from None
    if not head.strip():
        raise PumsInputError(path, "is empty")
    try:
        # The sniffed prefix may end inside a multi-byte character; an incremental decoder forgives that.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise PumsInputError(path, f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    lines = io.StringIO(text)
    header = next(csv.reader(lines), [])
    header = [name.strip() for name in header]
    if len(header) < 2 or not all(header):
        raise PumsInputError(path, "has no CSV header row of PUMS column names")
    if not lines.readline().strip():
        raise PumsInputError(path, "has a header but no data rows")
    return header


def csv_batches(path: str | Path, columns: list[str], *, block_size: int = BLOCK_SIZE) -> Iterator[pa.RecordBatch]:
    """Yield record batches of ``columns`` (all strings; empty cell = empty string), streaming the file."""
    path = Path(path)
    read_options = pacsv.ReadOptions(block_size=block_size, encoding="utf8")
    convert_options = pacsv.ConvertOptions(
        include_columns=columns,
        column_types={name: pa.string() for name in columns},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        with csv_open(path) as handle:
            reader = pacsv.open_csv(handle, read_options=read_options, convert_options=convert_options)
            yield from reader
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            raise PumsInputError(path, "is not UTF-8 text") from None
        raise PumsInputError(path, f"is not a well-formed CSV file ({message.splitlines()[0]})") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise PumsInputError(path, f"is a truncated or damaged zip file ({exc})") from None
