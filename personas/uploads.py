"""Uploaded PUMS files → an import job. The request only stores the uploads (each under its own name, so errors
name the file the user chose); a worker imports them and removes them afterwards, whatever happens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from core.jobs import JobError, JobRun, job_start
from core.models import Job
from core.uploads import upload_discard, upload_folder_new, upload_path, upload_store
from personas.pums.errors import PumsInputError
from personas.pums.importer import census_dataset_import

PUMS_IMPORT_JOB = "personas.pums_import"


def census_dataset_import_start(
    *,
    person: UploadedFile,
    dictionary: UploadedFile,
    housing: UploadedFile | None = None,
    name: str = "",
    started_by: Any = None,
) -> Job:
    """Store the uploads and queue their import (``census_dataset_import_run``) as a job."""
    folder = upload_folder_new()
    params = {
        "folder": folder,
        "person": upload_store(upload=person, folder=folder, slot="person"),
        "dictionary": upload_store(upload=dictionary, folder=folder, slot="dictionary"),
        "housing": upload_store(upload=housing, folder=folder, slot="housing") if housing else None,
        "name": name,
    }
    return job_start(kind=PUMS_IMPORT_JOB, started_by=started_by, params=params)


def _data_lines(path: Path) -> int:
    """Rows of a plain CSV (for the progress bar); 0 = unknown (a zip is counted as it is read)."""
    if path.suffix.lower() != ".csv":
        return 0
    with path.open("rb") as handle:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)


def census_dataset_import_run(job: JobRun) -> None:
    """The import job: the stored files through ``census_dataset_import``; bad input fails the job with the
    message naming the file, and stores nothing."""
    params = job.params
    try:
        person = upload_path(params["person"])
        job.set_total(_data_lines(person), already_done=0)
        read = 0

        def progress(rows: int) -> None:
            nonlocal read
            if rows > job.job.total:
                job.set_total(rows)
            job.advance(done=rows - read)
            read = rows

        census_dataset_import(
            person_path=person,
            dictionary_path=upload_path(params["dictionary"]),
            housing_path=upload_path(params["housing"]) if params.get("housing") else None,
            name=params.get("name") or "",
            progress=progress,
        )
    except PumsInputError as exc:
        raise JobError(f"{exc}. Nothing was imported.") from None
    finally:
        upload_discard(params["folder"])
