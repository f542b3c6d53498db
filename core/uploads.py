"""Uploaded files handed to a job: stored under ``$PERSONA_LAB_DATA_DIR/uploads/jobs/`` by the request, read by
the worker, removed when the job is done with them.

The web server and the workers must share ``PERSONA_LAB_DATA_DIR`` (one machine, or a shared volume), as they
already do for PUMS records files. The job's parameters hold the path relative to the data directory; a name
is never taken from the client beyond its base name.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

UPLOADS = "uploads/jobs"


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
