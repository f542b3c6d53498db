"""The retry budget: a transient error is retried for the endpoint's time budget, the job shows what it waits for
while it does, and a call past the budget fails transiently, naming the endpoint (tests/benchmarks/
test_judge_outage.py runs whole jobs through an outage on a real worker)."""

from __future__ import annotations

import threading
import time

import pytest

from core.jobs import JobRun
from core.llm import LLMError, faults
from core.llm.service import llm_complete, llm_complete_many
from core.models import Job, JobStatus
from tests.core.llm.requests import ab_request
from tests.factories import JobFactory
from tests.llm_mock import MockLLMServer


class RecordingRun(JobRun):
    """A job run that also keeps every note it was asked to show, in order."""

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.notes: list[str] = []

    def note_waiting(self, note: str) -> None:
        self.notes.append(note)
        super().note_waiting(note)


def test_transient_errors_are_retried_until_the_budget_is_spent():
    tries: list[float] = []

    def down() -> None:
        tries.append(time.monotonic())
        raise LLMError("connection refused", transient=True)

    started = time.monotonic()
    with pytest.raises(LLMError):
        faults.with_retries(down, attempts=None, budget_seconds=0.5, label="test")
    assert len(tries) > 3
    # The last wait is cut to what was left of the budget: the last try comes at its end, not past it.
    assert 0.5 <= tries[-1] - started < 0.5 + 0.1


def test_max_attempts_still_caps_the_tries_within_the_budget():
    tries = []

    def down() -> None:
        tries.append(1)
        raise LLMError("HTTP 503", transient=True)

    with pytest.raises(LLMError):
        faults.with_retries(down, attempts=2, budget_seconds=60, label="test")
    assert len(tries) == 2


def test_a_permanent_error_is_not_retried_whatever_the_budget():
    tries = []

    def refused() -> None:
        tries.append(1)
        raise LLMError("HTTP 401", transient=False)

    with pytest.raises(LLMError):
        faults.with_retries(refused, attempts=None, budget_seconds=60, label="test")
    assert tries == [1]


@pytest.mark.parametrize("many", [False, True])
def test_the_job_names_the_endpoint_while_it_waits_and_the_note_goes_when_it_answers(make_endpoint, many):
    with MockLLMServer() as server:
        endpoint = make_endpoint(
            "openai_compatible", base_url=server.openai_url, max_attempts=None, retry_budget_seconds=20
        )
        run = RecordingRun(JobFactory(status=JobStatus.RUNNING, error="Resumed after a restart."))
        server.stop()
        threading.Timer(2.5, server.restart).start()
        if many:
            completions = llm_complete_many(
                endpoint=endpoint, requests=[ab_request(f"Q{i}") for i in range(3)], run=run
            )
        else:
            completions = [llm_complete(endpoint=endpoint, request=ab_request(), run=run)]
    assert all(c.valid for c in completions), [c.error for c in completions]
    waiting = f"Waiting for {endpoint.name} ({server.openai_url}), which is not answering"
    assert run.notes[0].startswith(waiting)
    assert "20 s (the endpoint's retry budget)" in run.notes[0]
    assert run.notes[-1] == ""  # cleared…
    assert Job.objects.get(pk=run.job.pk).error == "Resumed after a restart."  # …back to the note it had


def test_past_the_budget_the_item_fails_transiently_naming_the_endpoint(make_endpoint):
    with MockLLMServer() as server:
        endpoint = make_endpoint(
            "openai_compatible", base_url=server.openai_url, max_attempts=None, retry_budget_seconds=1
        )
        server.stop()
        [completion] = llm_complete_many(endpoint=endpoint, requests=[ab_request()])
    assert not completion.valid
    assert completion.transient  # left for a re-run, not stored as an answer
    assert f"{endpoint.name} ({server.openai_url}) still failing after 1 s of retries" in completion.error
