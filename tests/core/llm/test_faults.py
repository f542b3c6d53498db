from __future__ import annotations

import email.utils
import time

import pytest

from core.llm import LLMError, faults


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers, seconds):
    assert faults.retry_after_seconds(headers) == seconds


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < faults.retry_after_seconds({"retry-after": when}) <= 30


def test_backoff_is_capped_and_prefers_the_servers_word(monkeypatch):
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.5)
    plain = LLMError("x", transient=True)
    assert faults.backoff_delay(1, plain) <= 0.5
    assert faults.backoff_delay(30, plain) <= faults.RETRY_CAP_SECONDS
    assert faults.backoff_delay(1, LLMError("x", transient=True, retry_after=7)) == 7
    assert faults.backoff_delay(1, LLMError("x", transient=True, retry_after=10_000)) == faults.RETRY_AFTER_CAP_SECONDS


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
        (529, True),
    ],
)
def test_status_classification(status, transient):
    assert faults.is_transient_status(status) is transient
