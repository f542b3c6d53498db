"""What a worker typed just before closing or refreshing the page is kept: the save waits for a pause in typing,
so the page sends the unsaved text in a beacon when it is left (``pagehide``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from annotation.models import Answer
from tests.annotation.factories import study_make

pytestmark = pytest.mark.browser


def _until(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Wait for a condition the browser cannot see (a row in the database), polling until a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.usefixtures("transactional_db")
def test_text_typed_just_before_closing_is_saved(browser, live_server) -> None:
    study = study_make(personas=1, k=1, n=1, checks=0, reasoning_min_chars=10)
    context = browser.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{study.public_id}/?PROLIFIC_PID=typist1&STUDY_ID=PS1&SESSION_ID=sub-typist1")
    page.goto(f"{live_server.url}/s/{study.public_id}/q/1/")
    expect(page.get_by_role("heading", name="Question 1 of 1")).to_be_visible()
    with page.expect_response(lambda r: "/q/1/" in r.url and r.request.method == "POST" and r.ok):
        page.locator("label[for=choice-B]").click()
    # Typed and gone at once: the debounced htmx save never fires; the beacon on pagehide carries the text.
    page.locator("#reasoning").press_sequentially("Typed in the last moment", delay=0)
    page.close(run_before_unload=True)
    _until(
        lambda: (
            Answer.objects.filter(participant__prolific_pid="typist1").values_list("reasoning", flat=True).first()
            == "Typed in the last moment"
        )
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{study.public_id}/q/1/")
    expect(page.locator("#reasoning")).to_have_value("Typed in the last moment")
    expect(page.locator("#choice-B")).to_be_checked()
    context.close()
