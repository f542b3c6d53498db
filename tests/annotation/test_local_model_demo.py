"""The local model's demo step, on the demo data, against a server that answers as llama-cpp-python does (the mock;
tests/core/llm/test_local_model.py runs the real one): the local judge lands in the report beside the baselines."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from annotation.local_model_demo import LOCAL_BENCH, LOCAL_DATASET, LOCAL_JUDGE, local_model_demo_run
from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY
from annotation.reports.services import report_refresh
from benchmarks.bench.models import BenchAnswer, BenchRun
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.judging.models import Judgment
from core.demo import demo_data_ensure
from core.llm import local_server
from core.models import Job
from tests.llm_mock import MockLLMServer
from tests.llm_retries import llm_fast_retries


@pytest.mark.django_db
def test_the_local_model_judges_the_report_study_benches_and_writes_pairs(monkeypatch, client, analyst):
    llm_fast_retries(monkeypatch, key_env="PERSONA_LAB_UNUSED_KEY")
    demo_data_ensure()
    assert local_model_demo_run() == [
        "Local model: no endpoint 'local-gemma' (manage.py llm_local_server registers it)."
    ]
    with MockLLMServer(llama_cpp=True, varied_text=True) as server:
        options = local_server.endpoint_options(url=server.openai_url, context=8192)
        call_command("llm_endpoint", local_server.DEFAULT_NAME, *options, stdout=io.StringIO())
        lines = local_model_demo_run()
        again = local_model_demo_run()
    assert len(lines) == 3, lines
    study = Study.objects.get(name=DEMO_REPORT_STUDY)
    assert f"/studies/{study.pk}/report/" in lines[0]
    assert Judgment.objects.filter(judge__name=LOCAL_JUDGE).count() == 12  # six items, both orders
    assert BenchAnswer.objects.filter(run__name=LOCAL_BENCH).count() == 4
    dataset = PreferenceDataset.objects.get(name=LOCAL_DATASET)
    assert dataset.pairs.count() > 0
    assert "pairs generated" in lines[2]
    # The jobs are on the jobs page with their outcome; a second start asks nothing again.
    assert Job.objects.filter(kind="benchmarks.judge_run").exists()
    assert "already there" in again[1]
    assert Judgment.objects.filter(judge__name=LOCAL_JUDGE).count() == 12
    assert BenchRun.objects.filter(name=LOCAL_BENCH).count() == 1
    # The report puts the local judge beside the offline baselines.
    report_refresh(study=study)
    client.force_login(analyst)
    page = client.get(f"/studies/{study.pk}/report/").content.decode()
    assert LOCAL_JUDGE in page
    assert "baseline-persona-overlap" in page
