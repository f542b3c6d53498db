from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Slot, Study
from tests.annotation.factories import participant_complete, study_make
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_coordinator_plans_from_a_pilot_and_adds_raters(
    page: Any, live_server: Any, coordinator: Any, password: str
) -> None:
    pilot = study_make(personas=2, k=3, n=3, checks=0)
    for n, pick in enumerate(["chosen", "chosen", "rejected", "rejected", "rejected", "chosen"]):
        participant_complete(pilot, f"pilot{n}", pick=pick)
    Study.objects.filter(pk=pilot.pk).update(name="Pilot round")
    study = study_make(personas=12, k=2, n=3)
    log_in(page, live_server.url, coordinator.username, password)
    page.goto(f"{live_server.url}/studies/{study.pk}/")

    designs = page.locator("#precision-designs")
    expect(designs).to_contain_text("default: κ = 0.4 at 3 raters per persona", timeout=30_000)
    expect(designs.get_by_role("row", name="This design")).to_contain_text("width 0.")
    expect(designs.get_by_role("row", name="This design")).to_contain_text("not available: Prolific not connected")

    page.get_by_label("Expected agreement from").select_option(label="pilot: Pilot round")
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#precision-designs")).to_contain_text("pilot “Pilot round”", timeout=30_000)
    expect(page.locator("#precision-running")).to_contain_text("no report yet")

    page.get_by_label("Add", exact=True).fill("2")
    page.get_by_role("button", name="raters per persona").click()
    expect(page.get_by_text("Added 24 places (2 per persona).")).to_be_visible()
    assert Slot.objects.filter(study=study).count() == 12 * 4
