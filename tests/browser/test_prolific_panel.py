"""The coordinator's Prolific buttons in a real browser, against the fake Prolific server: create the draft, see
Prolific's cost, publish after the confirmation, sync, bulk approve after the confirmation, reject one worker after
a confirmation that shows the message they will read."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Participant
from annotation.prolific.models import ProlificWave
from tests.annotation.factories import participant_complete, study_make
from tests.annotation.prolific.conftest import prolific  # noqa: F401 - the fake server fixture
from tests.annotation.prolific.fake import FakeProlific
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

MESSAGE = (
    "You chose the reply the attention check told you not to choose, and wrote nothing of your own. "
    "We cannot use this submission, sorry."
)


def test_coordinator_runs_the_prolific_round_from_the_study_page(
    page: Page,
    live_server: object,
    coordinator: object,
    password: str,
    prolific: FakeProlific,  # noqa: F811
) -> None:
    study = study_make(personas=2, k=1, checks=1)
    base = live_server.url  # type: ignore[attr-defined]
    log_in(page, base, coordinator.username, password)  # type: ignore[attr-defined]
    page.goto(f"{base}/studies/{study.pk}/")
    panel = page.locator("#prolific-panel")
    expect(panel.locator("#prolific-state")).to_have_text("Connected")

    page.get_by_label("Reward per participant, in cents (pence) of your Prolific currency").fill("180")
    panel.get_by_role("button", name="Create draft").click()
    expect(page.locator("#wave-1")).to_contain_text("Draft on Prolific")
    wave = ProlificWave.objects.get()
    assert prolific.studies[wave.prolific_study_id]["reward"] == 180

    page.get_by_role("link", name="Review and publish…").click()
    expect(page.locator("#publish-cost")).to_have_text("480 cents")  # 2 places at 180 each, fees and VAT included
    assert prolific.studies[wave.prolific_study_id]["status"] == "UNPUBLISHED"
    page.get_by_role("button", name="Publish on Prolific").click()
    expect(page.locator("#wave-1")).to_contain_text("ACTIVE")

    # Two workers finish on Prolific; one of them failed our attention check.
    for pid in ("GOOD1", "BAD1"):
        submission = prolific.worker_start(wave.prolific_study_id, pid)
        assert submission is not None
        participant = participant_complete(study, pid)
        Participant.objects.filter(pk=participant.pk).update(
            prolific_session_id=submission, failed_attention_check=pid == "BAD1"
        )
        prolific.worker_finish(submission, study.completion_code)

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#wave-1")).to_contain_text("awaiting review 2")
    page.get_by_role("link", name="Approve 1 who passed our checks…").click()
    expect(page.locator("#approve-list")).to_contain_text("GOOD1")
    page.get_by_role("button", name="Approve 1").click()
    expect(page.locator("#wave-1")).to_contain_text("approved 1")

    page.get_by_role("link", name="reject BAD1…").click()
    page.get_by_label("Prolific's rejection category").select_option("FAILED_CHECK")
    page.get_by_label("Message to the worker (at least 100 characters)").fill(MESSAGE)
    page.get_by_role("button", name="Preview the message").click()
    expect(page.locator("#reject-preview")).to_have_text(MESSAGE)
    assert not prolific.rejections
    page.get_by_role("button", name="Reject with this message").click()
    expect(page.locator("#wave-1")).to_contain_text("rejected 1")

    assert dict(prolific.approvals) == {
        s: 1 for s, sub in prolific.submissions.items() if sub["participant_id"] == "GOOD1"
    }
    assert sum(prolific.rejections.values()) == 1
