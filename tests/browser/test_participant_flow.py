"""Participants in a real browser: four people complete a two-persona study (k=2), one on a phone-sized screen
using the keyboard, one refreshing mid-way and using the back button; then the coordinator's dashboard and the
export show every answer. Prolific's completion page is answered locally, so nothing leaves the machine."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from annotation.models import Answer, Participant, Question, SlotStatus, Study
from tests.annotation.factories import study_make
from tests.browser.conftest import log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def _fake_prolific(page: Page) -> None:
    page.route(
        "https://app.prolific.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Prolific: complete</h1>"),
    )


def _save(page: Page, action: object) -> None:
    """Do something on the question page and wait until htmx has saved it."""
    with page.expect_response(lambda r: "/q/" in r.url and r.request.method == "POST" and r.ok):
        action()


def _answer_current(page: Page, study: Study, position: int, pid: str, *, keyboard: bool = False) -> None:
    participant = Participant.objects.get(study=study, prolific_pid=pid)
    question = Question.objects.get(study_persona=participant.study_persona, position=position)
    if question.is_attention:
        target = page.locator("label", has_text=question.check_correct[:25])
        radio_id = target.get_attribute("for")
    else:
        radio_id = "choice-A"
    if keyboard:
        page.focus(f"#{radio_id}")
        _save(page, lambda: page.keyboard.press("Space"))
    else:
        _save(page, lambda: page.locator(f"label[for={radio_id}]").click())
    _save(
        page,
        lambda: page.get_by_label(re.compile("Why would this person prefer")).fill(f"{pid} thinks so, q{position}."),
    )


def _arrive(page: Page, base: str, study: Study, pid: str) -> None:
    page.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID={pid}&STUDY_ID=PS1&SESSION_ID=sub-{pid}")
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    assert "PROLIFIC_PID" not in page.url
    page.get_by_role("link", name="Next: meet the person").click()
    expect(page.get_by_role("heading", name="The person you are role-playing")).to_be_visible()
    page.get_by_role("link", name="Start the questions").click()


def _finish(page: Page, study: Study) -> None:
    page.get_by_role("button", name="Save and review").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    page.get_by_role("button", name="Submit my answers").click()
    page.wait_for_url(re.compile(r"^https://app\.prolific\.com/submissions/complete\?cc="))
    assert page.url == f"https://app.prolific.com/submissions/complete?cc={study.completion_code}"


def _complete(page: Page, base: str, study: Study, pid: str, *, keyboard: bool = False) -> None:
    _fake_prolific(page)
    _arrive(page, base, study, pid)
    total = study.pairs_per_persona + study.attention_checks
    for position in range(1, total + 1):
        expect(page.get_by_role("heading", name=f"Question {position} of {total}")).to_be_visible()
        _answer_current(page, study, position, pid, keyboard=keyboard)
        if position < total:
            page.get_by_role("button", name="Save and next").click()
    _finish(page, study)


@pytest.mark.usefixtures("transactional_db")
def test_four_participants_complete_a_two_persona_study(browser, live_server, coordinator, password) -> None:
    study = study_make(personas=2, k=2, n=2, checks=1, reasoning_min_chars=10)
    base = live_server.url

    # 1. A desktop participant.
    context = browser.new_context()
    _complete(context.new_page(), base, study, "desk1")
    context.close()

    # 2. A phone-sized participant answering with the keyboard.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _complete(page, base, study, "phone1", keyboard=True)
    context.close()

    # 3. A participant who refreshes mid-way and uses the back button.
    context = browser.new_context()
    page = context.new_page()
    _fake_prolific(page)
    _arrive(page, base, study, "refresh1")
    _answer_current(page, study, 1, "refresh1")
    expect(page.get_by_text("1 of 3 questions answered")).to_be_visible()  # htmx updated the progress bar
    # The persona stays reachable while answering.
    page.get_by_text("Show the person you are role-playing").click()
    expect(page.locator(".persona-details .persona-card")).to_be_visible()
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_role("heading", name=re.compile("Question 2 of"))).to_be_visible()
    _answer_current(page, study, 2, "refresh1")
    page.reload()
    reasoning = page.get_by_label(re.compile("Why would this person prefer"))
    expect(reasoning).to_have_value("refresh1 thinks so, q2.")
    assert page.locator("input[name=choice]:checked").count() == 1
    page.go_back()
    expect(page.get_by_role("heading", name="Question 1 of 3")).to_be_visible()
    page.reload()  # the back button may show a cached page; a reload shows what is stored
    expect(page.get_by_label(re.compile("Why would this person prefer"))).to_have_value("refresh1 thinks so, q1.")
    page.get_by_role("button", name="Save and next").click()
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_role("heading", name="Question 3 of 3")).to_be_visible()
    _answer_current(page, study, 3, "refresh1")
    _finish(page, study)
    # Afterwards the answers are read-only.
    page.goto(f"{base}/s/{study.public_id}/q/1/")
    expect(page.locator("#choice-A")).to_be_disabled()
    expect(page.get_by_role("button", name="Save and next")).to_have_count(0)
    context.close()

    # 4. The last place, on a phone again; a fifth arrival finds no place left.
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    _complete(context.new_page(), base, study, "phone2")
    page = context.new_page()
    page.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID=late1&STUDY_ID=PS1&SESSION_ID=sub-late1")
    expect(page.get_by_role("heading", name="Sorry, there is no place left")).to_be_visible()
    expect(page.get_by_text(study.no_place_code)).to_be_visible()
    context.close()

    # The coordinator's dashboard shows every slot complete, and the export holds every answer.
    assert set(study.slots.values_list("status", flat=True)) == {SlotStatus.COMPLETE}
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, coordinator.username, password)
    page.goto(f"{base}/studies/{study.pk}/")
    for position in (1, 2):
        expect(page.locator(f"#persona-row-{position} td.complete")).to_have_text("2")
    context.close()
    client = Client()
    client.force_login(coordinator)
    body = b"".join(client.get(f"/studies/{study.pk}/export/answers.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 4 * 3 == Answer.objects.count()
    assert all(row["choice"] and row["reasoning"] for row in rows)
    assert all(int(row["time_ms"]) > 0 for row in rows)


@pytest.mark.usefixtures("transactional_db")
def test_a_choice_made_before_the_scripts_load_is_still_saved(browser, live_server) -> None:
    """A slow phone shows the question before htmx is ready; a tap then fires no htmx save. The page's script
    saves that early change once htmx is there, so a refresh does not lose it."""
    study = study_make(personas=1, k=1, n=1, checks=0)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _arrive(page, live_server.url, study, "slow1")
    expect(page.get_by_role("heading", name="Question 1 of 1")).to_be_visible()

    held: list[object] = []
    page.route("**/htmx*.js", lambda route: held.append(route))
    page.reload(wait_until="commit")
    expect(page.get_by_role("heading", name="Question 1 of 1")).to_be_visible()
    page.wait_for_function("document.readyState === 'loading' || document.readyState === 'interactive'")
    assert page.evaluate("typeof window.htmx") == "undefined"  # the script is still on its way
    page.locator("label[for=choice-B]").click()

    with page.expect_response(lambda r: "/q/1/" in r.url and r.request.method == "POST" and r.ok):
        for route in held:
            route.continue_()
    page.unroute("**/htmx*.js")
    answer = Answer.objects.get(participant__prolific_pid="slow1")
    assert answer.letter == "B"
    page.reload()
    expect(page.locator("#choice-B")).to_be_checked()
    context.close()
