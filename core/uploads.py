"""Uploaded files handed to a job: stored under ``$PERSONA_LAB_DATA_DIR/uploads/jobs/`` by the request, read by
the worker, removed when the job is done with them. Also what every import of a file shares: the error that refuses
a file whole with its line numbers, and the free name for what it creates.

The web server and the workers must share ``PERSONA_LAB_DATA_DIR`` (one machine, or a shared volume), as they
already do for PUMS records files. The job's parameters hold the path relative to the data directory; a name
is never taken from the client beyond its base name.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from core.jobs import job_start
from core.models import Job

UPLOADS = "uploads/jobs"
MAX_ERRORS_REPORTED = 20


class FileRefusedError(Exception):
    """A file refused whole, nothing imported; ``errors`` lists each problem, with its line number where it has one."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_ERRORS_REPORTED]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        super().__init__("; ".join(shown) + more)


def name_unique(*, queryset: QuerySet[Any], name: str) -> str:
    """``name``, or ``name (2)``, ``name (3)``… — the first ``name`` no row of ``queryset`` carries yet."""
    taken = set(queryset.filter(name__startswith=name).values_list("name", flat=True))
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"
    return candidate


def upload_folder_new() -> str:
    """A fresh folder for one job's uploads, relative to the data directory."""
    relative = f"{UPLOADS}/{uuid.uuid4().hex}"
    (Path(settings.DATA_DIR) / relative).mkdir(parents=True)
    return relative


def upload_store(*, upload: UploadedFile, folder: str, slot: str = "file") -> str:
    """Copy ``upload`` (streamed in chunks) into ``folder``; returns its path relative to the data directory.

    Each upload gets its own ``slot`` sub-folder, so two files with the same name stay apart and errors can name
    the file as the user chose it.
    """
    name = Path(upload.name or slot).name or slot
    relative = f"{folder}/{slot}/{name}"
    path = upload_path(relative)
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return relative


def upload_path(relative: str) -> Path:
    """The stored file or folder, refusing any path that would leave the uploads folder."""
    root = (Path(settings.DATA_DIR) / UPLOADS).resolve()
    path = (Path(settings.DATA_DIR) / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"{relative!r} is not a stored upload")
    return path


def upload_discard(folder: str) -> None:
    """Remove one job's upload folder; a folder already gone is fine."""
    shutil.rmtree(upload_path(folder), ignore_errors=True)


def upload_size_check(*, name: str, size: int, max_bytes: int) -> None:
    """Refuse a file of ``size`` bytes over ``max_bytes``: the one wording of every upload's size limit."""
    if size > max_bytes:
        limit = f"{max_bytes // 2**20} MB" if max_bytes % 2**20 == 0 else f"{max_bytes:,} bytes"
        raise FileRefusedError([f"{name} is over the {limit} limit; nothing was imported"])


def upload_job_start(
    *,
    kind: str,
    upload: UploadedFile,
    max_bytes: int | None,
    started_by: Any = None,
    params: dict[str, Any] | None = None,
) -> Job:
    """Store one uploaded file and queue the job ``kind`` that imports it (params ``folder``, ``path``, ``name``,
    ``sha256`` and ``params``). A file over ``max_bytes`` (the caller's cap; None: none) is refused before it is
    stored, with ``FileRefusedError``; the worker reads a file that passed.

    The job is named by the file's name and content, not by where it is stored: the same file sent again while its
    import is queued or running (a double click, a replayed form) returns that job, and the second copy is removed.
    """
    if max_bytes is not None:
        upload_size_check(name=upload.name or "the file", size=upload.size or 0, max_bytes=max_bytes)
    folder = upload_folder_new()
    path = upload_store(upload=upload, folder=folder)
    with upload_path(path).open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    work = {"name": (upload.name or "")[-200:], "sha256": digest, **(params or {})}
    job = job_start(kind=kind, started_by=started_by, params={"folder": folder, "path": path, **work}, dedupe=work)
    if job.params.get("folder") != folder:
        upload_discard(folder)
    return job
