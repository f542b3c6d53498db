"""A released-PERSONA-columns file as an import job: the request only stores the upload; a worker creates the
dataset (``dataset_import_released``, all or nothing) and removes the file, whatever happens."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.released import dataset_import_released
from benchmarks.prompts.importing import MAX_FILE_BYTES
from core.jobs import JobError, JobRun
from core.models import Job
from core.uploads import FileRefusedError, upload_discard, upload_job_start, upload_path

DATASET_IMPORT_JOB = "benchmarks.dataset_import"


def dataset_import_start(*, upload: UploadedFile, name: str, started_by: Any = None) -> Job:
    """Store the uploaded file and queue the import of dataset ``name``; the same file and name sent twice while it
    imports is one job."""
    return upload_job_start(
        kind=DATASET_IMPORT_JOB,
        upload=upload,
        max_bytes=MAX_FILE_BYTES,
        started_by=started_by,
        params={"dataset": name},
    )


def dataset_import_dataset(job: Job) -> PreferenceDataset | None:
    """The dataset the import ``job`` created, once it has."""
    return PreferenceDataset.objects.filter(name=job.params.get("dataset")).first()


def dataset_import_run(run: JobRun) -> PreferenceDataset:
    """The import job: one transaction, so the progress is 0 of 1 until the dataset is there, then 1 of 1."""
    params = run.params
    run.set_total(1, already_done=0)
    try:
        dataset = dataset_import_released(
            name=params["dataset"],
            data=upload_path(params["path"]).read_bytes(),
            filename=params["name"],
            created_by=run.job.started_by,
        )
    except FileRefusedError as exc:
        raise JobError(f"{params['name']} was refused, nothing was imported: {exc}") from None
    finally:
        upload_discard(params["folder"])
    run.advance()
    return dataset
