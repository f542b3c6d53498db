"""Accessibility in a real browser: axe-core on the participant flow and the coordinator's main pages, and a
keyboard-only participant round on a 390 px phone with a visible focus at every step.

axe-core comes from the npm registry, pinned by ``tests/browser/axe/package-lock.json`` (``bin/test`` runs ``npm ci``
there). It is injected from its file with ``add_script_tag(path=…)``, which Playwright turns into an inline script:
the pages' Content-Security-Policy forbids those, so these contexts open with ``bypass_csp`` (the other browser tests
keep the policy on and fail on any violation of it).

A page fails on any critical or serious violation, and on two moderate rules this project has fixed and keeps fixed:
``page-has-heading-one`` and ``landmark-unique``.

No fixed sleeps: every wait is on a condition (a heading, a saved response, a URL).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, expect

from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY
from benchmarks.bench.models import BenchRun
from benchmarks.datasets.models import PreferenceDataset
from personas.models import Persona
from tests.annotation.factories import study_make
from tests.browser.conftest import log_in
from tests.browser.test_study_round import _instructed_reason, _question

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000
FAILING_IMPACTS = {"critical", "serious"}
FAILING_RULES = {"page-has-heading-one", "landmark-unique"}  # moderate, fixed once: they stay fixed

# Runs in the page: every violation with its impact, its help text and where (the first few nodes).
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ")),
  }));
}"""

# Runs in the page: why the focused element has no visible focus, or "" when it has one. A visible focus is an
# outline or a box shadow on the element or, for a control drawn by its label, on that label, inside the viewport.
FOCUS_PROBLEM = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return "nothing has the focus";
  const name = e => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} "${(e.textContent || e.value || "")
    .trim().slice(0, 40)}"`;
  const ringed = e => {
    const style = getComputedStyle(e);
    return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || (style.boxShadow && style.boxShadow !== "none");
  };
  const candidates = [el, ...(el.labels ? Array.from(el.labels) : [])];
  const shown = candidates.find(ringed);
  if (!shown) return `no focus indicator on ${name(el)}`;
  const box = shown.getBoundingClientRect();
  if (box.width <= 1 || box.height <= 1) return `focus indicator on an invisible element ${name(shown)}`;
  if (box.bottom <= 0 || box.top >= innerHeight || box.right <= 0 || box.left >= innerWidth) {
    return `focused element ${name(shown)} is off screen (${Math.round(box.top)}px from the top)`;
  }
  return "";
}"""


@pytest.fixture(scope="module", autouse=True)
def _axe_installed() -> None:
    if not AXE.exists():
        pytest.skip("needs axe-core: run `npm ci` in tests/browser/axe (bin/test does)")


def axe_failures(page: Page) -> list[str]:
    """The violations on the page as it is now that fail this suite, one line each."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}"
        for v in violations
        if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES
    ]


@pytest.fixture
def context_factory(browser: Browser) -> Iterator[Any]:
    """New contexts with the CSP bypassed (for axe); the test fails if any response the pages load is a 5xx."""
    contexts: list[BrowserContext] = []
    server_errors: list[str] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(bypass_csp=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("response", lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert server_errors == []


def _focus_checked_tab(page: Page, problems: list[str], *, css: str = "", text: str = "", limit: int = 60) -> None:
    """Press Tab until the focus is on ``css`` / the element reading ``text``; every focus on the way is visible."""
    matches = (
        "([css, text]) => { const el = document.activeElement; if (!el || el === document.body) return false;"
        " return css ? el.matches(css) : el.textContent.trim() === text; }"
    )
    for _ in range(limit):
        page.keyboard.press("Tab")
        problem = page.evaluate(FOCUS_PROBLEM)
        if problem:
            problems.append(f"{page.url}: {problem}")
        if page.evaluate(matches, [css, text]):
            return
    raise AssertionError(f"{page.url}: Tab never reached {css or text}")


def _press_enter_and_wait(page: Page, url: str | re.Pattern[str]) -> None:
    with page.expect_navigation(url=url):
        page.keyboard.press("Enter")


@pytest.mark.usefixtures("transactional_db")
def test_a_keyboard_only_participant_on_a_phone_sees_the_focus_and_every_page_passes_axe(
    context_factory: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = live_server.url
    monkeypatch.setattr("annotation.views.participant.PROLIFIC_COMPLETE_URL", f"{base}/prolific-complete/")
    study = study_make(personas=1, k=2, n=2, checks=1, reasoning_min_chars=20)
    total = study.pairs_per_persona + study.attention_checks
    page = context_factory(viewport=PHONE, is_mobile=True, has_touch=False).new_page()
    failures: list[str] = []
    focus: list[str] = []

    # A link Prolific would open that is broken (no SESSION_ID): the problem page is part of the flow too.
    page.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID=kbd390")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    failures += axe_failures(page)

    page.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID=kbd390&STUDY_ID=PS1&SESSION_ID=s-kbd390")
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    failures += axe_failures(page)
    _focus_checked_tab(page, focus, text="Next: meet the person")
    _press_enter_and_wait(page, re.compile(r"/persona/$"))

    expect(page.get_by_role("heading", name="The person you are role-playing", level=1)).to_be_visible()
    failures += axe_failures(page)
    _focus_checked_tab(page, focus, text="Start the questions")
    _press_enter_and_wait(page, re.compile(r"/q/1/$"))

    for position in range(1, total + 1):
        expect(page.get_by_role("heading", name=f"Question {position} of {total}")).to_be_visible()
        failures += axe_failures(page)
        question = _question(study, "kbd390", position)
        if question.is_attention:
            radio_id = page.locator("label", has_text=question.check_correct[:25]).get_attribute("for")
            reason = _instructed_reason(question)
        else:
            radio_id, reason = "choice-A", f"They would like this reply better, question {position}."
        _focus_checked_tab(page, focus, css="input[name=choice]")
        key = "Space" if page.evaluate("document.activeElement.id") == radio_id else "ArrowDown"
        with page.expect_response(lambda r: "/q/" in r.url and r.request.method == "POST" and r.ok):
            page.keyboard.press(key)
        expect(page.locator(f"#{radio_id}")).to_be_checked()
        if page.evaluate(FOCUS_PROBLEM):  # the arrow key moved the focus: it must still show
            focus.append(f"{page.url}: {page.evaluate(FOCUS_PROBLEM)} after picking a reply")
        _focus_checked_tab(page, focus, css="#reasoning")
        with page.expect_response(lambda r: "/q/" in r.url and r.request.method == "POST" and r.ok):
            page.keyboard.type(reason)
        expect(page.locator("#reasoning-count")).to_contain_text(str(len(reason)))
        failures += axe_failures(page)  # after htmx swapped the save status and the progress bar in
        button = "Save and next" if position < total else "Save and review"
        _focus_checked_tab(page, focus, text=button)
        _press_enter_and_wait(page, re.compile(rf"/q/{position + 1}/$" if position < total else r"/finish/$"))

    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    failures += axe_failures(page)
    _focus_checked_tab(page, focus, text="Submit my answers")
    _press_enter_and_wait(page, re.compile(rf"/prolific-complete/\?cc={study.completion_code}$"))

    page.goto(f"{base}/s/{study.public_id}/done/")
    expect(page.locator("#completion-code")).to_have_text(study.completion_code)
    failures += axe_failures(page)
    _focus_checked_tab(page, focus, text="Copy the code")

    assert focus == []
    assert failures == []


@pytest.mark.usefixtures("transactional_db")
def test_the_coordinators_main_pages_pass_axe(
    context_factory: Any, live_server: Any, coordinator: Any, password: str
) -> None:
    call_command("demo_setup", stdout=io.StringIO())
    base = live_server.url
    report_study = Study.objects.get(name=DEMO_REPORT_STUDY)
    pages = {
        "home": "/",
        "personas": "/personas/",
        "a persona": f"/personas/{Persona.objects.order_by('pk').first().public_id}/",
        "census comparison": "/personas/census/",
        "studies": "/studies/",
        "a study": f"/studies/{report_study.pk}/",
        "report": f"/studies/{report_study.pk}/report/",
        "pairs": "/benchmarks/pairs/",
        "datasets": "/benchmarks/datasets/",
        "a dataset": f"/benchmarks/datasets/{PreferenceDataset.objects.order_by('pk').first().pk}/",
        "bench": "/benchmarks/bench/",
        "a bench run": f"/benchmarks/bench/{BenchRun.objects.order_by('pk').first().pk}/",
        "jobs": "/jobs/",
    }
    page = context_factory(viewport=DESKTOP).new_page()
    log_in(page, base, coordinator.username, password)
    failures: list[str] = []
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response is not None, f"{name}: {path} gave no response"
        assert response.ok, f"{name}: {path} answered {response.status}"
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        if name == "a study":  # its precision panel arrives by htmx after the page: check it too
            expect(page.locator("#precision-designs")).to_be_visible(timeout=30_000)
            expect(page.locator("#precision-running")).to_be_visible()
        failures += axe_failures(page)
    assert failures == []
