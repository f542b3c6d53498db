from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from core.jobs import JobRun, register_job_kind
from core.models import Job
from core.uploads import MAX_ERRORS_REPORTED, FileRefusedError, name_unique, upload_job_start, upload_size_check


@register_job_kind("tests.upload", label="Test upload")
def upload_handler(run: JobRun) -> None:
    """Never runs here: no worker, and the test transaction never commits."""


def _start(**kwargs: object) -> Job:
    return upload_job_start(kind="tests.upload", max_bytes=None, **kwargs)  # type: ignore[arg-type]


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
    first = _start(upload=SimpleUploadedFile("a.csv", b"x\n"), params={"n": 1})
    assert set(first.params) == {"folder", "path", "name", "sha256", "n"}
    assert (data_dir / first.params["path"]).read_bytes() == b"x\n"
    again = _start(upload=SimpleUploadedFile("a.csv", b"x\n"), params={"n": 1})
    assert again.pk == first.pk
    assert list((data_dir / "uploads" / "jobs").iterdir()) == [data_dir / first.params["folder"]]
    # Another content, name or parameter is other work.
    for name, content, n in (("a.csv", b"y\n", 1), ("b.csv", b"x\n", 1), ("a.csv", b"x\n", 2)):
        other = _start(upload=SimpleUploadedFile(name, content), params={"n": n})
        assert other.pk != first.pk
    assert Job.objects.filter(kind="tests.upload").count() == 4


def test_every_upload_s_size_limit_has_one_wording() -> None:
    upload_size_check(name="a.csv", size=20 * 2**20, max_bytes=20 * 2**20)
    with pytest.raises(FileRefusedError, match=r"^a\.csv is over the 20 MB limit; nothing was imported$"):
        upload_size_check(name="a.csv", size=20 * 2**20 + 1, max_bytes=20 * 2**20)
    with pytest.raises(FileRefusedError, match=r"^a\.csv is over the 1,000 bytes limit; nothing was imported$"):
        upload_size_check(name="a.csv", size=1001, max_bytes=1000)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "cap"),
    [
        ("benchmarks.pairs.importing.pairs_import_start", "benchmarks.pairs.importing.MAX_FILE_BYTES"),
        ("benchmarks.prompts.import_job.prompts_import_start", "benchmarks.prompts.import_job.MAX_FILE_BYTES"),
        ("benchmarks.datasets.import_job.dataset_import_start", "benchmarks.datasets.import_job.MAX_FILE_BYTES"),
    ],
)
def test_an_upload_over_its_cap_is_refused_before_it_is_stored(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, start: str, cap: str
) -> None:
    """Each import passes its cap to ``upload_job_start``, which refuses in the one wording and stores nothing."""
    module, _, function = start.rpartition(".")
    monkeypatch.setattr(cap, 4)
    kwargs = {"name": "d"} if function == "dataset_import_start" else {}
    with pytest.raises(FileRefusedError, match=r"^big\.csv is over the 4 bytes limit; nothing was imported$"):
        getattr(importlib.import_module(module), function)(upload=SimpleUploadedFile("big.csv", b"12345"), **kwargs)
    assert not Job.objects.exists()
    assert not (data_dir / "uploads").exists()
