"""The study builder's explicit list: search personas, press Add, and the live preview follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from personas.models import Persona, PersonaStatus
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("transactional_db")
def test_search_and_add_personas_to_an_explicit_list(page, live_server, coordinator, password) -> None:
    nurse = Persona.objects.create(
        attributes={"age": "44", "occupation category": "MED-Registered Nurses"}, status=PersonaStatus.CONSISTENT
    )
    Persona.objects.create(
        attributes={"age": "45", "occupation category": "MED-Nurse Anesthetists"}, status=PersonaStatus.PRUNED
    )
    Persona.objects.create(attributes={"age": "30", "occupation category": "CON-Carpenters"})
    page.set_default_timeout(30_000)
    log_in(page, live_server.url, coordinator.username, password)
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Search personas").fill("nurse")
    results = page.locator("#persona-search-results li")
    expect(results).to_have_count(1)  # the pruned nurse is never offered
    expect(results.first).to_contain_text("Registered Nurses")
    results.first.get_by_role("button", name=f"Add persona {nurse.pk}").click()
    expect(page.get_by_label("Persona numbers")).to_have_value(str(nurse.pk))
    expect(page.get_by_label("From a list I pick")).to_be_checked()
    expect(page.locator("#persona-count")).to_contain_text("1 persona selected")
