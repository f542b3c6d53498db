from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.pairs.importing import pairs_import
from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.models import Prompt, PromptSource, TopicOrigin
from core.uploads import FileRefusedError
from personas.models import Persona

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pairs"
pytestmark = pytest.mark.django_db


def test_jsonl_import_creates_persona_independent_pairs() -> None:
    result = pairs_import(data=(FIXTURES / "independent.jsonl").read_bytes(), file_format="jsonl")
    assert (result.created, result.updated, result.prompts_created) == (2, 0, 2)
    pair = PreferencePair.objects.get(prompt__source_id="fx-1")
    assert pair.persona is None
    # The prompt says where it came from, as the other imports' prompts do.
    assert pair.prompt.source == PromptSource.PAIRS
    assert pair.prompt.topic_origin == (TopicOrigin.SUPPLIED if pair.prompt.topic else TopicOrigin.NONE)
    assert pair.chosen.startswith("Baking")
    assert PreferencePair.objects.get(split=PairSplit.TEST_SEEN).chosen.startswith("Alternate")


def test_reimport_updates_instead_of_duplicating() -> None:
    data = (FIXTURES / "independent.csv").read_bytes()
    pairs_import(data=data, file_format="csv")
    again = pairs_import(data=data, file_format="csv")
    assert (again.created, again.updated) == (0, 2)
    assert PreferencePair.objects.count() == 2
    assert PreferencePair.objects.get(prompt__text__startswith="Should").critique == "too dismissive"


def test_per_persona_pairs_are_keyed_by_public_id() -> None:
    persona = Persona.objects.create(attributes={"age": 40})
    line = {"prompt": "Tea or coffee?", "chosen": "Tea", "rejected": "Coffee", "persona": str(persona.public_id)}
    pairs_import(data=json.dumps(line).encode(), file_format="jsonl")
    pairs_import(data=json.dumps({**line, "persona": ""}).encode(), file_format="jsonl")
    assert PreferencePair.objects.filter(persona=persona).count() == 1
    assert PreferencePair.objects.filter(persona__isnull=True).count() == 1
    assert Prompt.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "file_format", "message"),
    [
        (b'{"prompt": "x", "chosen": "a"}\n', "jsonl", "line 2: rejected is missing"),
        (b'{"prompt": "x", "chosen": "a", "rejected": "b"}\nnot json\n', "jsonl", "line 3: not valid JSON"),
        (b'{"prompt": "x", "chosen": "a", "rejected": "a"}\n', "jsonl", "identical"),
        (b'{"prompt": "x", "chosen": "a", "rejected": "b", "persona": "nope"}\n', "jsonl", "not a persona public_id"),
        (
            b'{"prompt": "x", "chosen": "a", "rejected": "b", "persona": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}\n',
            "jsonl",
            "no persona has public_id",
        ),
        (b'{"prompt": "x", "chosen": "a", "rejected": "b", "colour": "red"}\n', "jsonl", "unknown field"),
        (b"question,answer\nx,y\n", "csv", "header"),
        (b"\xff\xfe", "jsonl", "UTF-8"),
        (b"", "jsonl", "no pairs"),
        (b"[1, 2]\n", "jsonl", "expected an object"),
        (b"x", "xml", "unknown format"),
    ],
)
def test_malformed_files_store_nothing(content: bytes, file_format: str, message: str) -> None:
    good = b'{"prompt": "fine", "chosen": "a", "rejected": "b"}\n'
    with pytest.raises(FileRefusedError, match=message):
        pairs_import(data=good + content if file_format == "jsonl" and content else content, file_format=file_format)
    assert not Prompt.objects.exists()
    assert not PreferencePair.objects.exists()


@pytest.mark.parametrize(
    ("data", "file_format", "message"),
    [
        (b"prompt,chosen,rejected\nP,A,B,surplus,cells\n", "csv", "line 2: the row has 2 more cell(s) than the header"),
        (b'prompt,chosen,rejected\nP,"A,B\nQ,C,D\n', "csv", "line 2: not valid CSV"),
        (b"prompt,chosen,rejected\nP\x00,A,B\n", "csv", "line 2: prompt contains a NUL character"),
        (b'{"prompt": "P\\u0000", "chosen": "A", "rejected": "B"}', "jsonl", "line 1: prompt contains a NUL"),
        (b'{"prompt": "P", "chosen": "\\ud800", "rejected": "B"}', "jsonl", "line 1: chosen contains an unpaired"),
        (b"[" * 100_000, "jsonl", "line 1: the JSON is nested too deeply"),
        (b'{"prompt": ' + b"9" * 5000 + b"}", "jsonl", "line 1: not valid JSON"),
        (b'{"prompt": "P", "chosen": "A", "rejected": "B", "\\u0000": 1}', "jsonl", "unknown field(s) '\\x00'"),
    ],
)
def test_malformed_files_are_refused_with_the_line(data: bytes, file_format: str, message: str) -> None:
    with pytest.raises(FileRefusedError) as refused:
        pairs_import(data=data, file_format=file_format)
    assert message in str(refused.value)
    assert not PreferencePair.objects.exists()
    assert not Prompt.objects.exists()


def test_an_upload_imports_as_a_job_with_progress(celery_worker: object, data_dir: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from benchmarks.pairs.importing import WRITE_BATCH, pairs_import_start
    from core.models import JobStatus
    from tests.factories import wait_for

    lines = [json.dumps({"prompt": f"P{i}", "chosen": f"A{i}", "rejected": f"B{i}"}) for i in range(WRITE_BATCH + 5)]
    job = pairs_import_start(upload=SimpleUploadedFile("many.jsonl", "\n".join(lines).encode()))
    job = wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert (job.status, job.kind, job.done, job.total) == (JobStatus.SUCCEEDED, "benchmarks.pairs_import", 2005, 2005)
    assert PreferencePair.objects.count() == Prompt.objects.count() == WRITE_BATCH + 5
    bad = pairs_import_start(upload=SimpleUploadedFile("bad.csv", b"prompt,chosen,rejected\nP,A,B,C\n"))
    bad = wait_for(bad, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert bad.status == JobStatus.FAILED
    assert bad.error == "bad.csv: line 2: the row has 1 more cell(s) than the header names. Nothing was imported."
    assert PreferencePair.objects.count() == WRITE_BATCH + 5
    assert not any((data_dir / "uploads" / "jobs").iterdir())


def test_the_same_file_sent_twice_while_queued_is_one_job(data_dir: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from benchmarks.pairs.importing import pairs_import_start

    data = (FIXTURES / "independent.csv").read_bytes()
    first = pairs_import_start(upload=SimpleUploadedFile("pairs.csv", data))
    again = pairs_import_start(upload=SimpleUploadedFile("pairs.csv", data))  # a double click / replayed form
    other = pairs_import_start(upload=SimpleUploadedFile("pairs.csv", data + b"P2,A2,B2\n"))
    assert again.pk == first.pk != other.pk
    assert first.params["file_format"] == "csv"
    assert len(list((data_dir / "uploads" / "jobs").iterdir())) == 2  # the second copy of the first file is gone
