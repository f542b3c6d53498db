"""The coordinator's path, in a browser: PRISM cluster file → filters → classifier → topics and split → a dataset
planned for the personas → three stages and verification with offline models → win rate → export → a study from
the dataset, launched."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotation.models import Question, Study, StudyStatus
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.judging.services import baseline_judges_ensure
from benchmarks.models import Prompt
from core.llm.endpoints import llm_demo_endpoints_ensure
from tests.benchmarks.datasets.conftest import personas_make
from tests.browser.conftest import log_in

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prompts" / "prism_clusters_small.csv"
pytestmark = pytest.mark.browser


def _click_and_wait_for_row(page, button: str, stage: str, *, timeout: int = 60_000) -> None:
    page.get_by_role("button", name=button).click()
    row = page.locator(f'#dataset-progress tr[data-stage="{stage}"] .progress-text')
    expect(row).to_have_text(re.compile(r"^(\d+)/\1$"), timeout=timeout)


def test_coordinator_builds_a_dataset_and_launches_a_study(
    page, live_server, celery_worker, coordinator, password, tmp_path
):
    llm_demo_endpoints_ensure()
    baseline_judges_ensure()
    personas_make(3)
    log_in(page, live_server.url, coordinator.username, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()

    page.get_by_label("File").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("32 new")).to_be_visible()
    page.get_by_role("button", name=re.compile("Apply the form filter")).click()
    expect(page.locator('[data-reason="no_question_mark"]')).not_to_have_text("0")
    page.get_by_label("Classifier endpoint").select_option(label="offline-text (offline: text)")
    page.get_by_role("button", name="2. Classify controversy").click()
    page.wait_for_timeout(500)
    for _ in range(60):  # the classifier runs on the worker; the counts update on reload
        page.reload()
        if (
            page.locator('[data-reason="kept"]').inner_text() != "0"
            and not Prompt.objects.filter(form_check="passed", controversy="unchecked").exists()
        ):
            break
        page.wait_for_timeout(500)
    # Overrule one rejected verdict from the list.
    page.goto(f"{live_server.url}/benchmarks/prompts/?reason=not_controversial")
    first = page.locator('tr[id^="prompt-"]').first
    first.get_by_role("button", name="Keep").click()
    expect(first).to_contain_text("overruled")
    page.goto(f"{live_server.url}/benchmarks/prompts/")
    page.get_by_label("Clusters").fill("2")
    page.get_by_role("button", name=re.compile("Cluster the prompts")).click()
    expect(page.get_by_text(re.compile(r"split \d+ train / \d+ held out"))).to_be_visible()
    expect(page.locator(".bar-chart tbody tr").first).to_be_visible()

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
    dataset = PreferenceDataset.objects.get(name="browser-ds")
    for _ in range(60):
        dataset.refresh_from_db()
        if dataset.planned_at:
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.locator("#estimate-title")).to_be_visible()

    _click_and_wait_for_row(page, "Run: y_l: plain answers", "answer")
    _click_and_wait_for_row(page, "Run: Critiques", "critique")
    _click_and_wait_for_row(page, "Run: Revisions y_w", "revise")
    page.get_by_role("button", name="Run: Verification").click()
    for _ in range(60):
        if not dataset.pairs.filter(verification="unchecked").exists():
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.locator("#win-rate")).to_have_text(re.compile(r"\d+ %"))

    page.get_by_role("button", name=re.compile("^Export")).click()
    for _ in range(60):  # the export runs on the worker; its link appears when the zip is written
        page.reload()
        if page.locator("#export-download").count():
            break
        page.wait_for_timeout(250)
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
