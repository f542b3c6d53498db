"""The coordinator's pages: prompts (filter, overrule, topics), a dataset (plan, stages, export, study)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotation.models import Question, Study
from benchmarks.datasets.export import dataset_export_archive
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.importing import prompts_import
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt
from core.models import Job, JobStatus
from tests.benchmarks.datasets.conftest import dataset_make, kept_prompts, offline_endpoint, personas_make
from tests.factories import wait_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prompts"
pytestmark = pytest.mark.django_db


def test_prompt_page_filter_overrule(client, coordinator):
    # The import page (a job) is tested in tests/benchmarks/prompts/test_import_job.py.
    assert prompts_import(data=(FIXTURES / "prism_clusters_small.csv").read_bytes(), name="c.csv").created == 32
    client.force_login(coordinator)
    client.post(reverse("prompt-form-filter"))
    assert Prompt.objects.filter(form_check=FormCheck.PASSED).count() > 20
    prompt = Prompt.objects.filter(form_check=FormCheck.PASSED).first()
    response = client.post(
        reverse("prompt-overrule", args=[prompt.pk]), {"verdict": "controversial"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "overruled" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.controversy == ControversyVerdict.CONTROVERSIAL
    page = client.get(reverse("prompt-list")).content.decode()
    assert 'data-reason="kept">1<' in page


def test_analyst_cannot_change_prompts(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("prompt-list")).status_code == 200
    assert client.post(reverse("prompt-form-filter")).status_code == 403


def test_dataset_page_create_plan_estimate_export_and_study(client, coordinator, django_capture_on_commit_callbacks):
    kept_prompts(8, 4)
    personas_make(3)
    client.force_login(coordinator)
    generator = offline_endpoint()
    response = client.post(
        reverse("dataset-list"),
        {
            "name": "views-ds",
            "persona_scope": "consistent",
            "train_per_persona": 4,
            "test_seen_per_persona": 2,
            "test_unseen_per_persona": 2,
            "generator": generator.pk,
            "seed": 1,
            "length_tolerance": 0.1,
        },
    )
    dataset = PreferenceDataset.objects.get(name="views-ds")
    assert response.status_code == 302
    dataset_plan(dataset=dataset)
    page = client.get(reverse("dataset-detail", args=[dataset.pk])).content.decode()
    assert "Before launch" in page
    assert 'data-stage="critique"' in page
    assert "held-out prompts" in page
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("dataset-stage", args=[dataset.pk, "answer"]))
    assert response.status_code == 302
    assert client.post(reverse("dataset-stage", args=[dataset.pk, "nonsense"])).status_code == 404
    stage_answer_run(dataset=dataset)
    stage_critique_run(dataset=dataset)
    stage_revise_run(dataset=dataset)
    detail = reverse("dataset-detail", args=[dataset.pk])
    progress = client.get(detail, headers={"HX-Request": "true"}).content.decode()
    assert progress.lstrip().startswith('<div id="dataset-progress"')
    assert "<html" not in progress
    assert f"{dataset.pairs.count()}/24" in progress
    assert client.get(f"{detail}progress/")["Location"] == detail  # the former address, kept for open tabs

    assert client.get(reverse("dataset-download", args=[dataset.pk])).status_code == 404  # not exported yet
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("dataset-export", args=[dataset.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # the export job was sent to the workers
    dataset_export_archive(dataset=dataset)  # what the worker runs
    assert "Download the export" in client.get(reverse("dataset-detail", args=[dataset.pk])).content.decode()
    response = client.get(reverse("dataset-download", args=[dataset.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "README.md" in archive.namelist()
    assert "data/train-00000-of-00001.parquet" in archive.namelist()

    response = client.post(
        reverse("study-from-dataset", args=[dataset.pk]),
        {
            "name": "From dataset",
            "split": PairSplit.TRAIN,
            "pairs_per_persona": 2,
            "raters_per_persona": 2,
            "majority_threshold": 2,
            "seed": 0,
        },
    )
    study = Study.objects.get(name="From dataset")
    assert response.status_code == 302
    questions = Question.objects.filter(study_persona__study=study, pair__isnull=False).select_related("pair")
    assert questions.count() == 2 * study.study_personas.count() > 0
    assert {q.pair.dataset_id for q in questions} == {dataset.pk}
    assert {q.pair.split for q in questions} == {PairSplit.TRAIN}


def test_stage_without_generator_is_refused(client, coordinator):
    kept_prompts(8, 4)
    personas_make(1)
    dataset = dataset_make()
    dataset_plan(dataset=dataset)
    PreferenceDataset.objects.filter(pk=dataset.pk).update(generator=None)
    client.force_login(coordinator)
    response = client.post(reverse("dataset-stage", args=[dataset.pk, "critique"]), follow=True)
    assert "Choose a generator" in response.content.decode()


def _released_import(client, name, content):
    response = client.post(reverse("dataset-import"), {"name": name, "file": SimpleUploadedFile("r.jsonl", content)})
    assert response.status_code == 302
    job = wait_for(Job.objects.get(pk=response["Location"].split("?job=")[1]), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    return job, client.get(response["Location"]).content.decode()


def test_released_file_imports_as_a_job_and_the_page_links_to_the_dataset(celery_worker, client, coordinator):
    client.force_login(coordinator)
    good = b'{"persona": "age: 30", "instruction": "Q?", "original": "a", "data": "b"}\n'
    job, page = _released_import(client, "good", good)
    dataset = PreferenceDataset.objects.get(name="good")
    assert (job.status, job.done, job.total, dataset.pairs.count()) == (JobStatus.SUCCEEDED, 1, 1, 1)
    assert f'<a href="{reverse("dataset-detail", args=[dataset.pk])}">See the dataset good (1 pair)</a>' in page
    # The same name again: the job refuses it, and nothing is added.
    job, page = _released_import(client, "good", good)
    assert job.status == JobStatus.FAILED
    assert "a dataset named &#x27;good&#x27; exists already" in page
    assert PreferencePair.objects.count() == 1


def test_released_file_import_job_refuses_a_bad_file(celery_worker, client, coordinator):
    client.force_login(coordinator)
    bad = b'{"persona": "age: 30", "instruction": "Q?", "original": "a", "data": "a"}\n'
    job, page = _released_import(client, "bad", bad)
    assert job.status == JobStatus.FAILED
    assert "line 1: original and data are the same text" in page
    assert not PreferenceDataset.objects.filter(name="bad").exists()
