"""A save the server does not acknowledge is shown and retried, and nothing a worker typed is lost: the status line
says "Not saved — retrying" while saves fail (an error status or no answer at all), the page keeps sending until a
save is acknowledged, the beacon sent on leaving carries what was never acknowledged, and a page request that fails
on a database error shows the study's error page (templates/500.html), not Django's bare "Server Error (500)".

Saves are made to fail in the browser (Playwright's route interception answers 500 or drops the connection), so the
server and its database stay real; the last test breaks the database itself."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.db import connection
from playwright.sync_api import Page, Route, expect

from annotation.models import Answer
from tests.annotation.factories import study_make

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

NOT_SAVED = "Not saved \u2014 retrying"


class FailingSaves:
    """Route handler for the question URL: while ``on``, htmx saves fail, alternately with a 500 and a dropped
    connection; everything else (page loads, the beacon, the plain form) goes through."""

    def __init__(self) -> None:
        self.on = False
        self.failed = 0

    def __call__(self, route: Route) -> None:
        request = route.request
        if self.on and request.method == "POST" and request.headers.get("hx-request"):
            self.failed += 1
            if self.failed % 2:
                route.fulfill(status=500, content_type="text/html", body="<h1>Server Error (500)</h1>")
            else:
                route.abort("connectionreset")
            return
        route.continue_()


@pytest.fixture
def question_page(page: Page, live_server: object) -> tuple[Page, object, FailingSaves]:
    page.set_default_timeout(60_000)  # a loaded machine is slow, never wrong
    study = study_make(personas=1, k=1, n=2, checks=0, reasoning_min_chars=10)
    page.goto(f"{live_server.url}/s/{study.public_id}/?PROLIFIC_PID=worker1&STUDY_ID=PS1&SESSION_ID=sub-worker1")
    failing = FailingSaves()
    page.route(f"**/s/{study.public_id}/q/1/", failing)
    page.goto(f"{live_server.url}/s/{study.public_id}/q/1/")
    expect(page.get_by_role("heading", name="Question 1 of 2")).to_be_visible()
    with page.expect_response(lambda r: "/q/1/" in r.url and r.request.method == "POST" and r.ok):
        page.locator("label[for=choice-B]").click()
    expect(page.locator("#save-status")).to_have_text("Saved.")
    return page, study, failing


def _saves_posted(page: Page) -> object:
    return page.expect_request(lambda r: "/q/1/" in r.url and r.method == "POST")


def _until(condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
    """Wait for a condition the browser cannot see (a row in the database), polling until a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _stored_reasoning() -> str:
    return Answer.objects.filter(participant__prolific_pid="worker1").values_list("reasoning", flat=True).get()


def test_failed_saves_are_shown_and_retried_until_saved(question_page) -> None:
    page, _, failing = question_page
    status = page.locator("#save-status")
    failing.on = True
    page.locator("#reasoning").press_sequentially("She values plain answers", delay=0)
    expect(status).to_have_text(NOT_SAVED)
    expect(status).to_have_class("save-status error")
    page.locator("#reasoning").press_sequentially(" over flattery.", delay=0)
    with _saves_posted(page):  # it keeps trying on its own
        pass
    expect(status).to_have_text(NOT_SAVED)
    assert failing.failed >= 2
    assert _stored_reasoning() == ""  # the failures were real: nothing reached the server
    failing.on = False
    expect(status).to_have_text("Saved.")  # the next retry is let through and acknowledged
    expect(status).not_to_have_class("save-status error")
    assert _stored_reasoning() == "She values plain answers over flattery."
    page.reload()
    expect(page.locator("#reasoning")).to_have_value("She values plain answers over flattery.")
    expect(page.locator("#choice-B")).to_be_checked()


def test_leaving_during_failures_sends_what_was_never_acknowledged(question_page, live_server) -> None:
    page, study, failing = question_page
    failing.on = True  # from now on no htmx save gets through; the beacon (not routed through Playwright) does
    page.locator("#reasoning").press_sequentially("Typed while saves were failing", delay=0)
    expect(page.locator("#save-status")).to_have_text(NOT_SAVED)
    assert _stored_reasoning() == ""
    page.goto(f"{live_server.url}/s/{study.public_id}/persona/")  # pagehide: the beacon
    _until(lambda: _stored_reasoning() == "Typed while saves were failing")


def test_a_database_error_on_next_shows_the_study_error_page(question_page) -> None:
    page, _, _ = question_page
    page.locator("#reasoning").fill("Written before the database broke")
    table = connection.ops.quote_name(Answer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO answer_gone")
    try:
        page.get_by_role("button", name="Save and next").click()
        expect(page.get_by_role("heading", name="Sorry, something went wrong on our side")).to_be_visible()
        expect(page.get_by_text("Your answers so far are kept.")).to_be_visible()
        expect(page.get_by_text("open the study again from your link on Prolific")).to_be_visible()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE answer_gone RENAME TO {table}")
    assert page.locator("body").inner_text().strip() != "Server Error (500)"
