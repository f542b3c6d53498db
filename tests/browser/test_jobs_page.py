from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import Job, JobStatus
from tests.browser.conftest import log_in
from tests.factories import JobFactory

pytestmark = pytest.mark.browser


def test_coordinator_watches_a_job_finish_live(page, live_server, celery_worker, coordinator, password):
    log_in(page, live_server.url, coordinator.username, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("button", name="Recompute statistics").click()
    job = Job.objects.get()
    row = page.locator(f"#job-{job.pk}")
    # The row polls its partial: the status flips to Succeeded without a reload.
    expect(row.locator(".status")).to_have_text("Succeeded", timeout=30_000)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    assert "hx-trigger" not in (row.evaluate("el => el.outerHTML"))


def test_cancel_and_rerun_buttons_post_with_csrf(page, live_server, celery_worker, coordinator, password):
    # A queued job that was never sent to the worker, as if the broker lost it.
    job = JobFactory(kind="core.recompute_statistics")
    log_in(page, live_server.url, coordinator.username, password)
    page.goto(f"{live_server.url}/jobs/")
    row = page.locator(f"#job-{job.pk}")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".status")).to_have_text("Cancelled")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    row.get_by_role("button", name="Re-run").click()
    expect(row.locator(".status")).to_have_text("Succeeded", timeout=30_000)


def test_jobs_page_fits_a_phone(browser, live_server, analyst, password):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, analyst.username, password)
    page.goto(f"{live_server.url}/jobs/")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    context.close()


def test_api_docs_render_under_the_content_security_policy(page, live_server):
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("Persona Lab API").first).to_be_visible()
