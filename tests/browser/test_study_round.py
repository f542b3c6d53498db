"""A whole study round in a real browser, as a new coordinator would run it.

The coordinator imports pairs, builds a study from a filtered, seeded sample of personas and one import batch,
edits the draft, launches it; four workers finish it — one on a 390 px phone, one with the keyboard only — each
passing the attention check by following its instruction; one more worker returns mid-way and the coordinator
reopens the place; a late arrival is turned away and listed apart; an analyst opens the report (computed by a real
worker) on a 1280 px screen and on a phone. Each step writes a screenshot to ``var/screenshots/study-round/``.

No fixed sleeps: every wait is on a condition (a heading, a saved response, a count), so CPU load only slows it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from annotation.models import Answer, Participant, Question, SlotStatus, Study, StudyStatus
from annotation.selectors import study_items
from benchmarks.judging.services import baseline_judges_ensure, judgments_run
from benchmarks.pairs.models import PreferencePair
from core.models import Job, JobStatus
from personas.models import Persona, PersonaStatus
from tests.browser.conftest import log_in
from tests.factories import wait_for

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "study-round"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000  # generous: under CPU load pages are slow, never wrong
MIN_CHARS = 20
OCCUPATIONS = [
    ("EDU-Elementary And Middle School Teachers", PersonaStatus.CONSISTENT),
    ("EDU-Secondary School Teachers", PersonaStatus.CONSISTENT),
    ("EDU-Preschool And Kindergarten Teachers", PersonaStatus.CONSISTENT),
    ("EDU-Special Education Teachers", PersonaStatus.PRUNED),  # matches the filter, never chosen
    ("SAL-Retail Salespersons", PersonaStatus.CONSISTENT),
    ("MED-Registered Nurses", PersonaStatus.CONSISTENT),
    ("CON-Carpenters", PersonaStatus.CONSISTENT),
]
ROUND_PAIRS = [
    ("Should I take a gap year before university?", "Yes, if you have a plan for it.", "No, never."),
    ("How do I start saving for retirement?", "Start small and automate it.", "Buy lottery tickets."),
    ("Is it worth learning to cook?", "Yes: cheaper, healthier, social.", "No, delivery is fine."),
    ("Should children have smartphones?", "Later, with limits agreed together.", "Yes, from age five."),
]


class Shots:
    """Numbered full-page screenshots of each step, in a folder emptied at the start of the run."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


class _Context:
    """A browser context with the patient default timeout."""

    def __init__(self, browser: Browser, **options: object) -> None:
        self.context: BrowserContext = browser.new_context(**options)
        self.context.set_default_timeout(TIMEOUT_MS)

    def new_page(self) -> Page:
        return self.context.new_page()

    def close(self) -> None:
        self.context.close()


def _context(browser: Browser, **options: object) -> _Context:
    return _Context(browser, **options)


def _saved(page: Page, action: object) -> None:
    """Do something on a question page and wait until htmx has saved it."""
    with page.expect_response(lambda r: "/q/" in r.url and r.request.method == "POST" and r.ok):
        action()  # type: ignore[operator]


def _tab_to(page: Page, *, css: str = "", text: str = "", limit: int = 80) -> None:
    """Press Tab until the focused element matches ``css`` or reads ``text`` (keyboard-only worker: no clicks)."""
    check = (
        "([css, text]) => { const el = document.activeElement; if (!el || el === document.body) return false;"
        " return css ? el.matches(css) : el.textContent.trim() === text; }"
    )
    for _ in range(limit):
        if page.evaluate(check, [css, text]):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {css or text}")


def _question(study: Study, pid: str, position: int) -> Question:
    participant = Participant.objects.get(study=study, prolific_pid=pid)
    return Question.objects.get(study_persona=participant.study_persona, position=position)


def _instructed_reason(question: Question) -> str:
    """The word an attention check tells the worker to write, read from its own text."""
    match = re.search(r'(?:write|type) "([^"]+)"', question.check_prompt)
    assert match, question.check_prompt
    return match.group(1)


def _answer(page: Page, study: Study, pid: str, position: int, *, keyboard: bool = False) -> None:
    """Pick the right reply and explain, as the worker would; an attention check gets exactly what it asks."""
    question = _question(study, pid, position)
    if question.is_attention:
        radio_id = page.locator("label", has_text=question.check_correct[:25]).get_attribute("for")
        reason = _instructed_reason(question)
    else:
        radio_id = "choice-A"
        reason = f"{pid} would like this reply better, question {position}."
    already = page.locator(f"#{radio_id}").is_checked()  # back on a question answered before
    if keyboard and not already:
        _tab_to(page, css="input[name=choice]")
        # Two replies: Space picks the focused one; an arrow key moves to (and picks) the other.
        key = "Space" if page.evaluate("document.activeElement.id") == radio_id else "ArrowDown"
        _saved(page, lambda: page.keyboard.press(key))
        expect(page.locator(f"#{radio_id}")).to_be_checked()
    elif not already:
        _saved(page, lambda: page.locator(f"label[for={radio_id}]").click())
    if keyboard:
        _tab_to(page, css="#reasoning")
        page.keyboard.press("Control+A")
        _saved(page, lambda: page.keyboard.type(reason))
    else:
        _saved(page, lambda: page.locator("#reasoning").fill(reason))
    expect(page.locator("#reasoning-count")).to_contain_text(str(len(reason)))


def _arrive(page: Page, base: str, study: Study, pid: str) -> None:
    page.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID={pid}&STUDY_ID=PS1&SESSION_ID=sub-{pid}")
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    page.get_by_role("link", name="Next: meet the person").click()
    expect(page.get_by_role("heading", name="The person you are role-playing")).to_be_visible()
    page.get_by_role("link", name="Start the questions").click()


def _keyboard_follow(page: Page, name: str) -> None:
    _tab_to(page, text=name)
    page.keyboard.press("Enter")


def _submit_and_get_code(
    page: Page, base: str, study: Study, shots: Shots, pid: str, *, keyboard: bool = False
) -> None:
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    with page.expect_navigation(url=re.compile(r"/prolific-complete/\?cc=")):
        if keyboard:
            _keyboard_follow(page, "Submit my answers")
        else:
            page.get_by_role("button", name="Submit my answers").click()
    assert page.url.endswith(f"cc={study.completion_code}")  # the attention check was passed, not failed
    # The redirect worked here; a worker whose redirect fails comes back to the done page and finds the code.
    page.goto(f"{base}/s/{study.public_id}/done/")
    expect(page.locator("#completion-code")).to_have_text(study.completion_code)
    expect(page.get_by_role("button", name="Copy the code")).to_be_visible()
    shots(page, f"{pid}-done-with-code")


def _complete(page: Page, base: str, study: Study, shots: Shots, pid: str, *, keyboard: bool = False) -> None:
    _arrive(page, base, study, pid)
    total = study.pairs_per_persona + study.attention_checks
    for position in range(1, total + 1):
        expect(page.get_by_role("heading", name=f"Question {position} of {total}")).to_be_visible()
        _answer(page, study, pid, position, keyboard=keyboard)
        if _question(study, pid, position).is_attention:
            shots(page, f"{pid}-attention-check-passed")
        button = "Save and next" if position < total else "Save and review"
        if keyboard:
            _keyboard_follow(page, button)
        else:
            page.get_by_role("button", name=button).click()
    _submit_and_get_code(page, base, study, shots, pid, keyboard=keyboard)


def _setup_people() -> list[Persona]:
    return [
        Persona.objects.create(
            attributes={"age": str(30 + i), "sex": "Female", "occupation category": job, "income": "52000.0"},
            status=status,
        )
        for i, (job, status) in enumerate(OCCUPATIONS)
    ]


@pytest.mark.usefixtures("transactional_db")
def test_a_whole_study_round(
    browser: Browser, live_server, celery_worker, coordinator, analyst, password, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = _setup_people()
    base = live_server.url
    # Prolific's completion page, stood in for by a page of ours (a 404 is fine: only the URL and its code count),
    # so nothing leaves the machine and no request interception can race the redirect.
    monkeypatch.setattr("annotation.views.participant.PROLIFIC_COMPLETE_URL", f"{base}/prolific-complete/")
    shots = Shots(SCREENSHOTS)

    # --- The coordinator imports pairs and finds them on the pairs page. -------------------------------------
    desk = _context(browser, viewport=DESKTOP)
    page = desk.new_page()
    log_in(page, base, coordinator.username, password)
    page.get_by_role("link", name="Studies").first.click()
    page.get_by_role("link", name="Import preference pairs").click()
    lines = "\n".join(json.dumps({"prompt": p, "chosen": c, "rejected": r, "topic": "life"}) for p, c, r in ROUND_PAIRS)
    page.locator("input[type=file]").set_input_files(
        {"name": "round1.jsonl", "mimeType": "application/json", "buffer": lines.encode()}
    )
    page.get_by_role("button", name=re.compile("Import|Upload")).click()
    # The import runs as a job; the page polls it and, once it has finished, links to the batch it wrote.
    job = wait_for(Job.objects.get(kind="benchmarks.pairs_import"), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED, job.error
    page.get_by_role("link", name=re.compile("See the imported pairs")).click()
    expect(page.get_by_role("heading", name="Preference pairs", exact=True)).to_be_visible()
    expect(page.locator("#pair-count")).to_have_text("4 pairs.")
    batch = PreferencePair.objects.get(prompt__text=ROUND_PAIRS[0][0]).batch
    shots(page, "coordinator-pairs-page")

    # --- Build the study: teachers (pruned never), a seeded sample of 2, the new batch only. ----------------
    page.get_by_role("link", name="Studies").first.click()
    page.get_by_role("link", name="New study").click()
    page.get_by_label("Name", exact=True).fill("Round 1: teachers")
    page.get_by_label("Attribute", exact=True).select_option(label="Occupation")
    page.get_by_label("contains", exact=True).fill("Teacher")
    page.get_by_label("Sample size").fill("2")
    page.get_by_label("Import batch").select_option(str(batch.pk))
    page.get_by_label("Questions per persona").fill("2")
    page.get_by_label("Raters per persona (k)").fill("3")
    page.get_by_label("Majority threshold").fill("2")
    page.get_by_label("Attention checks").fill("1")
    page.get_by_label("Reasoning min chars").fill(str(MIN_CHARS))
    page.get_by_label("Estimated minutes").fill("5")
    page.get_by_label("Majority threshold").press("Tab")  # a change event: the preview follows
    expect(page.locator("#persona-count")).to_contain_text("2 personas selected")
    expect(page.locator("#pair-count")).to_contain_text("4 pairs chosen")
    expect(page.locator("#selection-preview")).to_contain_text("School Teachers")  # readable: no "EDU-" prefix
    expect(page.locator("#selection-preview")).not_to_contain_text("EDU-")
    shots(page, "coordinator-builder-preview")
    page.get_by_role("button", name="Create draft study").click()
    expect(page.get_by_role("link", name="Edit draft")).to_be_visible()
    study = Study.objects.get(name="Round 1: teachers")
    chosen = set(study.study_personas.values_list("persona_id", flat=True))
    assert len(chosen) == 2
    assert chosen <= {p.pk for p in people[:3]}  # teachers, never the pruned one
    shots(page, "coordinator-draft")

    # --- Drafts stay editable: two raters per persona instead of three. ---------------------------------------
    page.get_by_role("link", name="Edit draft").click()
    expect(page.get_by_label("contains", exact=True)).to_have_value("Teacher")
    page.get_by_label("Raters per persona (k)").fill("2")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft “Round 1: teachers” updated.")).to_be_visible()
    assert study.slots.count() == 2 * 2
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("h1 .status")).to_have_text("Live")
    study.refresh_from_db()
    assert study.status == StudyStatus.LIVE
    shots(page, "coordinator-launched")

    # --- Worker 1, desktop. -----------------------------------------------------------------------------------
    context = _context(browser, viewport=DESKTOP)
    worker = context.new_page()
    _complete(worker, base, study, shots, "desk1")
    context.close()

    # --- Worker 2, a 390 px phone; first tries to move on with a too-short reason and is told so. --------------
    context = _context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    worker = context.new_page()
    _arrive(worker, base, study, "phone1")
    total = study.pairs_per_persona + study.attention_checks
    expect(worker.get_by_role("heading", name=f"Question 1 of {total}")).to_be_visible()
    _saved(worker, lambda: worker.locator("label[for=choice-A]").click())
    _saved(worker, lambda: worker.locator("#reasoning").fill("short"))
    expect(worker.locator("#reasoning-count")).to_contain_text(f"5 / {MIN_CHARS}")
    expect(worker.locator("#reasoning-hint")).to_contain_text(f"{MIN_CHARS - 5} more")
    expect(worker.locator("#progress")).to_contain_text(f"0 of {total} questions answered")
    shots(worker, "phone1-too-short")
    worker.get_by_role("button", name="Save and next").click()
    expect(worker.get_by_role("heading", name=f"Question 2 of {total}")).to_be_visible()
    expect(worker.locator(".question-status-1")).to_contain_text("incomplete")
    shots(worker, "phone1-marked-incomplete")
    worker.locator(".question-status-1 a").click()
    expect(worker.get_by_role("heading", name=f"Question 1 of {total}")).to_be_visible()
    _answer(worker, study, "phone1", 1)
    expect(worker.locator("#progress")).to_contain_text(f"1 of {total} questions answered")
    for position in range(1, total + 1):
        if position > 1:
            _answer(worker, study, "phone1", position)
        worker.get_by_role("button", name="Save and next" if position < total else "Save and review").click()
        if position < total:
            expect(worker.get_by_role("heading", name=f"Question {position + 1} of {total}")).to_be_visible()
    _submit_and_get_code(worker, base, study, shots, "phone1")
    context.close()

    # --- Worker 3, keyboard only. -------------------------------------------------------------------------------
    context = _context(browser, viewport=DESKTOP)
    worker = context.new_page()
    _complete(worker, base, study, shots, "kbd1", keyboard=True)
    context.close()

    # --- Worker 4 takes the last place, answers one question and returns the study on Prolific. --------------
    context = _context(browser, viewport=DESKTOP)
    worker = context.new_page()
    _arrive(worker, base, study, "ret1")
    _answer(worker, study, "ret1", 1)
    context.close()

    # --- A late arrival finds no place left (and is listed apart, without release buttons). -----------------
    context = _context(browser, viewport=PHONE, is_mobile=True)
    worker = context.new_page()
    worker.goto(f"{base}/s/{study.public_id}/?PROLIFIC_PID=late1&STUDY_ID=PS1&SESSION_ID=sub-late1")
    expect(worker.get_by_role("heading", name="Sorry, there is no place left")).to_be_visible()
    shots(worker, "late1-no-place")
    context.close()

    # --- The coordinator reopens the returned worker's place. ------------------------------------------------
    page.goto(f"{base}/studies/{study.pk}/participants/")
    returned = Participant.objects.get(study=study, prolific_pid="ret1")
    expect(page.locator("#turned-away")).to_contain_text("late1")
    expect(page.locator("#turned-away button")).to_have_count(0)
    shots(page, "coordinator-participants-before-release")
    page.locator(f"#participant-{returned.pk}").get_by_role("button", name="Returned").click()
    expect(page.get_by_text(f"Participant {returned.pk} marked returned; place released.")).to_be_visible()
    shots(page, "coordinator-place-reopened")

    # --- Worker 5 takes the reopened place and finishes. -------------------------------------------------------
    context = _context(browser, viewport=DESKTOP)
    worker = context.new_page()
    _complete(worker, base, study, shots, "desk2")
    context.close()
    assert sorted(study.slots.values_list("status", flat=True)) == [SlotStatus.COMPLETE] * 4
    assert Answer.objects.filter(participant__prolific_pid__in=["desk1", "phone1", "kbd1", "desk2"]).count() == 4 * 3
    assert not Participant.objects.filter(study=study, failed_attention_check=True).exists()

    # The four offline baseline judges answer the study (their long names make the widest pairwise table).
    items = [(item.persona_id, item.pair_id) for item in study_items(study=study)]
    for judge in baseline_judges_ensure():
        judgments_run(judge=judge, items=items)

    # --- The analyst opens the report: computed by the worker, tables fit 1280 px, the heatmap reads on a phone.
    desk.close()
    context = _context(browser, viewport=DESKTOP)
    page = context.new_page()
    log_in(page, base, analyst.username, password)
    page.goto(f"{base}/studies/{study.pk}/report/")
    expect(page.get_by_role("heading", name="Figures")).to_be_visible(timeout=120_000)
    expect(page.locator("#report-table-pairwise")).to_be_visible()
    expect(page.locator("#report-table-pairwise")).to_contain_text("baseline-persona-overlap")  # the judges are in it
    fits = page.evaluate(
        "() => { const wrap = document.querySelector('#report-table-pairwise').parentElement;"
        " return wrap.scrollWidth <= wrap.clientWidth + 1; }"
    )
    assert fits, "the pairwise table is cut off at 1280 px"
    shots(page, "analyst-report-1280")
    context.close()
    context = _context(browser, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    log_in(page, base, analyst.username, password)
    page.goto(f"{base}/studies/{study.pk}/report/")
    expect(page.get_by_role("heading", name="Figures")).to_be_visible(timeout=120_000)
    heatmap = page.locator(".report-figure img").first
    # The figures load lazily, as a phone user meets them: scrolled to, far below the tables.
    heatmap.scroll_into_view_if_needed()
    expect(heatmap).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=heatmap.element_handle())
    assert heatmap.bounding_box()["width"] >= 500  # readable: it scrolls sideways instead of shrinking to 390 px
    shots(page, "analyst-report-phone")
    context.close()
