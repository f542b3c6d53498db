"""The coordinator's path, in a browser: PRISM cluster file → filters → classifier → topics and split → a dataset
planned for the personas → three stages and verification with offline models → win rate → export → a study from
the dataset, launched."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotation.models import Question, Study, StudyStatus
from benchmarks.datasets.export import export_archive_path
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.judging.services import baseline_judges_ensure
from benchmarks.prompts.models import Prompt
from core.llm.endpoints import llm_demo_endpoints_ensure
from tests.benchmarks.datasets.conftest import personas_make
from tests.browser.conftest import log_in

T = 30_000  # ms; generous: the suite shares two CPUs with other work
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prompts" / "prism_clusters_small.csv"
pytestmark = pytest.mark.browser


def _wait_for(condition, timeout: float = 120) -> None:
    """Wait for work a real worker does (then the page is reloaded once, not in a loop)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.2)


def _click_and_wait_for_row(page, button: str, stage: str, *, timeout: int = 120_000) -> None:
    page.get_by_role("button", name=button).click()
    row = page.locator(f'#dataset-progress tr[data-stage="{stage}"] .progress-text')
    expect(row).to_have_text(re.compile(r"^(\d+)/\1$"), timeout=timeout)


def test_coordinator_builds_a_dataset_and_launches_a_study(
    page, live_server, celery_worker, coordinator, password, tmp_path
):
    page.set_default_timeout(T)
    llm_demo_endpoints_ensure()
    baseline_judges_ensure()
    personas_make(3)
    log_in(page, live_server.url, coordinator.username, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()

    page.get_by_label("File").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Import").click()
    # The import runs as a job; its page polls it and, once it has ended, links back to the prompts.
    page.get_by_role("link", name=re.compile(r"See the prompts \(32 distinct")).click()
    page.get_by_role("button", name=re.compile("Apply the form filter")).click()
    expect(page.locator('[data-reason="no_question_mark"]')).not_to_have_text("0", timeout=T)
    page.get_by_label("Classifier endpoint").select_option(label="offline-text (offline: text)")
    page.get_by_role("button", name="2. Classify controversy").click()
    expect(page.get_by_text("Controversy classifier started")).to_be_visible(timeout=T)
    _wait_for(lambda: not Prompt.objects.filter(form_check="passed", controversy="unchecked").exists())
    page.reload()  # the classifier ran on the worker; the counts are read on load
    expect(page.locator('[data-reason="kept"]')).not_to_have_text("0", timeout=T)
    # Overrule one rejected verdict from the list.
    page.goto(f"{live_server.url}/benchmarks/prompts/?reason=not_controversial")
    first = page.locator('tr[id^="prompt-"]').first
    first.get_by_role("button", name="Keep").click()
    expect(first).to_contain_text("overruled", timeout=T)
    page.goto(f"{live_server.url}/benchmarks/prompts/")
    page.get_by_label("Clusters").fill("2")
    page.get_by_role("button", name=re.compile("Cluster the prompts")).click()
    expect(page.get_by_text(re.compile(r"split \d+ train / \d+ held out"))).to_be_visible(timeout=T)
    expect(page.locator(".bar-chart tbody tr").first).to_be_visible(timeout=T)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.get_by_label("Name").fill("browser-ds")
    page.get_by_label("train pairs per persona (train prompts)").fill("2")
    page.get_by_label("test_seen pairs per persona (train prompts)").fill("1")
    page.get_by_label("test_unseen pairs per persona (held-out prompts)").fill("1")
    page.get_by_label("Generator").select_option(label="offline-text (offline: text)")
    page.get_by_label("Verifier").select_option(label="baseline-persona-overlap")
    page.get_by_label("Use batch").uncheck()
    page.get_by_role("button", name="Save the plan").click()
    page.get_by_role("button", name="Plan the dataset").click()
    expect(page.get_by_text(re.compile(r"Planning started"))).to_be_visible(timeout=T)
    dataset = PreferenceDataset.objects.get(name="browser-ds")
    _wait_for(lambda: PreferenceDataset.objects.filter(pk=dataset.pk, planned_at__isnull=False).exists())
    page.reload()
    expect(page.locator("#estimate-title")).to_be_visible(timeout=T)

    _click_and_wait_for_row(page, "Run: y_l: plain answers", "answer")
    _click_and_wait_for_row(page, "Run: Critiques", "critique")
    _click_and_wait_for_row(page, "Run: Revisions y_w", "revise")
    page.get_by_role("button", name="Run: Verification").click()
    # Each button posts and redirects back; reloading before that lands detaches the page.
    expect(page.get_by_text(re.compile(r"Verification started"))).to_be_visible(timeout=T)
    _wait_for(lambda: dataset.pairs.exists() and not dataset.pairs.filter(verification="unchecked").exists())
    page.reload()
    expect(page.locator("#win-rate")).to_have_text(re.compile(r"\d+ %"), timeout=T)

    page.get_by_role("button", name=re.compile("^Export")).click()
    expect(page.get_by_text(re.compile(r"Export started"))).to_be_visible(timeout=T)
    _wait_for(lambda: export_archive_path(dataset).exists())  # the export runs on the worker
    page.reload()
    with page.expect_download() as download:
        page.locator("#export-download").click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)
    assert "data/train-00000-of-00001.parquet" in zipfile.ZipFile(path).namelist()

    page.get_by_label("Split").first.select_option("train")
    page.locator("#id_pairs_per_persona").fill("2")
    page.locator("#id_raters_per_persona").fill("2")
    page.locator("#id_majority_threshold").fill("1")
    page.get_by_role("button", name="Create the study").click()
    page.get_by_role("button", name="Launch").click()
    study = Study.objects.get(name="Study on browser-ds")
    assert study.status == StudyStatus.LIVE
    questions = Question.objects.filter(study_persona__study=study, pair__isnull=False).select_related("pair")
    assert questions.exists()
    assert {q.pair.dataset_id for q in questions} == {dataset.pk}
