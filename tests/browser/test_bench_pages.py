from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from benchmarks.bench.models import BenchRun
from benchmarks.pairs.models import PairSplit, PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from tests.browser.conftest import log_in
from tests.personas.factories import ADULT, PersonaFactory

pytestmark = pytest.mark.browser


def _data() -> None:
    endpoint_upsert(name="b-model", provider=Provider.OFFLINE, model="text", concurrency=1)
    endpoint_upsert(name="b-critic", provider=Provider.OFFLINE, model="persona_overlap", concurrency=1)
    prompt = Prompt.objects.create(text="Should my town build a stadium?", text_sha256=text_digest("stadium"))
    for index, sex in enumerate(["Male", "Female", "Male"]):
        persona = PersonaFactory(attributes={**ADULT, "sex": sex, "age": str(25 + 10 * index)})
        PreferencePair.objects.create(
            persona=persona, prompt=prompt, chosen="yes", rejected="no", split=PairSplit.TEST_SEEN
        )


def test_coordinator_starts_a_run_and_reads_its_results(page, live_server, celery_worker, coordinator, password):
    _data()
    log_in(page, live_server.url, coordinator.username, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bench", exact=True).click()
    page.get_by_role("link", name="New bench run").click()
    config = {
        "name": "browser run",
        "models": ["model-under-test"],
        "critic": "b-critic",
        "items": 3,
        "samples": 2,
        "k": 2,
        "slices": [{"sex": "Male"}],
    }
    page.get_by_label("Config (JSON)").fill(json.dumps(config))
    page.get_by_label("Endpoint mapping").fill("model-under-test=nope")
    page.get_by_role("button", name="Start the run").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown endpoint 'nope'")
    page.get_by_label("Endpoint mapping").fill("model-under-test=b-model")
    page.get_by_role("button", name="Start the run").click()
    run = BenchRun.objects.get()
    # The status block polls while the job runs, then the page reloads with the results.
    expect(page.locator("#run-status")).to_contain_text("Succeeded", timeout=30_000)
    expect(page.get_by_role("heading", name="Pass rate per model and method", exact=True)).to_be_visible()
    table = page.locator("#table-pass_rates + p + p + .table-wrap table")
    expect(table).to_contain_text("demographic_summary")
    figure = page.get_by_role("img", name="Pass rate per model and method")
    figure.scroll_into_view_if_needed()
    expect(figure).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())
    # An intersectional slice as a filter, then the raw answers with their critiques.
    page.get_by_label("Restrict to personas (intersectional slice)").fill("sex=Female")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("for personas matching the filter")).to_be_visible()
    page.get_by_role("link", name="Browse the answers").click()
    expect(page.get_by_text("Personalization critique:").first).to_be_visible()
    assert run.answers.count() == 3 * 4 * 2
