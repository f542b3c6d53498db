"""A prompts file as an import job: the request only stores the upload; a worker reads and stores the prompts
(``prompts_import``) and removes the file, whatever happens."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile

from benchmarks.prompts.importing import MAX_FILE_BYTES, PromptImportResult, prompts_import
from core.jobs import JobError, JobRun
from core.models import Job
from core.uploads import FileRefusedError, upload_discard, upload_job_start, upload_path

PROMPTS_IMPORT_JOB = "benchmarks.prompts_import"


def prompts_import_start(*, upload: UploadedFile, started_by: Any = None) -> Job:
    """Store the uploaded prompts file and queue its import; the same file sent twice while it imports is one job."""
    return upload_job_start(kind=PROMPTS_IMPORT_JOB, upload=upload, max_bytes=MAX_FILE_BYTES, started_by=started_by)


def prompts_import_run(run: JobRun) -> PromptImportResult:
    """The import job: the stored file through ``prompts_import``, its progress on the job; a bad file stores
    nothing and fails the job naming the lines."""
    params = run.params
    try:
        return prompts_import(
            data=upload_path(params["path"]).read_bytes(),
            name=params["name"],
            progress=lambda stored, distinct: run.set_total(distinct, already_done=stored),
        )
    except FileRefusedError as exc:
        raise JobError(f"{params['name']} was refused, nothing was imported: {exc}") from None
    finally:
        upload_discard(params["folder"])
