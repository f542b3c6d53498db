from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from core.jobs import JobRun, register_job_kind
from core.models import Job
from core.uploads import MAX_ERRORS_REPORTED, FileRefusedError, name_unique, upload_job_start


@register_job_kind("tests.upload", label="Test upload")
def upload_handler(run: JobRun) -> None:
    """Never runs here: no worker, and the test transaction never commits."""


def test_a_refused_file_shows_the_first_errors_and_counts_the_rest() -> None:
    errors = [f"line {n}: bad" for n in range(1, MAX_ERRORS_REPORTED + 4)]
    refused = FileRefusedError(errors)
    assert refused.errors == errors
    assert str(refused).startswith("line 1: bad; line 2: bad")
    assert str(refused).endswith(f"line {MAX_ERRORS_REPORTED}: bad (and 3 more)")
    assert str(FileRefusedError(["the file holds no pairs"])) == "the file holds no pairs"


@pytest.mark.django_db
def test_name_unique_appends_the_first_free_number() -> None:
    groups = Group.objects.filter(name__startswith="Upload")
    assert name_unique(queryset=groups, name="Upload") == "Upload"
    Group.objects.bulk_create([Group(name="Upload"), Group(name="Upload (2)"), Group(name="Uploads")])
    assert name_unique(queryset=groups, name="Upload") == "Upload (3)"
    assert name_unique(queryset=groups.exclude(name="Upload (2)"), name="Upload") == "Upload (2)"


@pytest.mark.django_db
def test_the_same_file_sent_again_while_queued_is_the_same_job(data_dir: Path) -> None:
    first = upload_job_start(kind="tests.upload", upload=SimpleUploadedFile("a.csv", b"x\n"), params={"n": 1})
    assert set(first.params) == {"folder", "path", "name", "sha256", "n"}
    assert (data_dir / first.params["path"]).read_bytes() == b"x\n"
    again = upload_job_start(kind="tests.upload", upload=SimpleUploadedFile("a.csv", b"x\n"), params={"n": 1})
    assert again.pk == first.pk
    assert list((data_dir / "uploads" / "jobs").iterdir()) == [data_dir / first.params["folder"]]
    # Another content, name or parameter is other work.
    for name, content, n in (("a.csv", b"y\n", 1), ("b.csv", b"x\n", 1), ("a.csv", b"x\n", 2)):
        other = upload_job_start(kind="tests.upload", upload=SimpleUploadedFile(name, content), params={"n": n})
        assert other.pk != first.pk
    assert Job.objects.filter(kind="tests.upload").count() == 4
