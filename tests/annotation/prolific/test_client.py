"""The Prolific client against the fake: retries only where safe, clear messages, nothing logged with the token."""

from __future__ import annotations

import logging

import pytest

from annotation.prolific import client
from annotation.prolific.client import ProlificError
from tests.annotation.prolific.fake import FakeProlific


def test_cost_and_predicted_time_are_plain_functions(prolific: FakeProlific) -> None:
    assert client.study_cost(reward_cents=300, places=12) == 4800
    predicted = client.predicted_recruitment_time(reward_cents=300, places=12, estimated_minutes=20)
    assert predicted["precise_recruitment_time_hours"] == pytest.approx(0.6)
    assert predicted["display_string"]


def test_every_call_is_logged_without_the_token(prolific: FakeProlific, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="annotation.prolific"):
        client.studies_list()
    assert any("GET studies/ -> 200 in" in r.getMessage() for r in caplog.records)
    assert prolific.token not in caplog.text


def test_a_get_is_retried_after_429_and_500(prolific: FakeProlific) -> None:
    prolific.fail("GET", r"^/api/v1/studies/$", "429")
    prolific.fail("GET", r"^/api/v1/studies/$", "500")
    assert client.studies_list() == []
    assert [c[2] for c in prolific.calls] == [429, 500, 200]


def test_a_post_that_is_not_idempotent_is_sent_once(prolific: FakeProlific) -> None:
    prolific.fail("POST", r"bonus-payments", "500")
    with pytest.raises(ProlificError) as caught:
        client.bonus_create(study_id="nope", csv_bonuses="p,1.00\n")
    assert caught.value.transient
    assert len(prolific.calls) == 1


def test_a_timeout_after_a_post_is_uncertain(prolific: FakeProlific) -> None:
    prolific.fail("POST", r"^/api/v1/studies/$", "timeout")
    body = {
        "name": "n",
        "description": "d",
        "prolific_id_option": "url_parameters",
        "reward": 100,
        "external_study_url": "https://x/?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
        "total_available_places": 2,
        "estimated_completion_time": 5,
        "completion_codes": [{"code": "C1", "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]}],
    }
    with pytest.raises(ProlificError) as caught:
        client.study_create(body=body)
    assert caught.value.uncertain
    assert len(prolific.studies) == 1  # Prolific did it


@pytest.mark.parametrize(
    ("status", "words"), [(401, "PROLIFIC_API_TOKEN"), (404, "does not know"), (429, "wait a minute")]
)
def test_clear_messages(prolific: FakeProlific, settings: object, status: int, words: str) -> None:
    if status == 401:
        settings.PROLIFIC_API_TOKEN = "wrong"  # type: ignore[attr-defined]
        call = client.studies_list
    elif status == 404:
        call = lambda: client.study_get(study_id="missing")  # noqa: E731
    else:
        prolific.fail("GET", r"^/api/v1/studies/$", "429", times=5)
        call = client.studies_list
    with pytest.raises(ProlificError, match=words):
        call()


def test_without_a_token_nothing_is_sent(settings: object) -> None:
    settings.PROLIFIC_API_TOKEN = None  # type: ignore[attr-defined]
    with pytest.raises(ProlificError, match="not connected"):
        client.studies_list()
