"""The one LLM work-item runner: items read a chunk at a time, replies flushed in bulk by count and by time with
one job update per flush, the echo guard before the handler, revise-and-retry, and failed calls that store nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.jobs import JobRun
from core.llm import runner
from core.llm.echo import ECHO_ERROR
from core.llm.models import ModelEndpoint
from core.llm.runner import Reply, work_run
from core.llm.types import Completion, LLMRequest, Message
from tests.llm_mock import MockLLMServer

SYSTEM = "You answer the user's question in one short, plain paragraph without any preamble or notes."


class Collecting:
    """A handler that asks one plain question per item and keeps what each flush writes."""

    def __init__(self, *, retry_first: bool = False) -> None:
        self.retry_first = retry_first
        self.writes: list[list[Any]] = []
        self.asked: list[tuple[str, str]] = []  # (item, retry reason)
        self.seen: list[tuple[str, Completion, bool]] = []

    def requests(self, items: list[str], *, retry: list[str] | None = None) -> list[LLMRequest]:
        reasons = retry or [""] * len(items)
        self.asked += list(zip(items, reasons, strict=True))
        return [
            LLMRequest(system=SYSTEM, messages=(Message("user", item),), key=f"{item}-{reason}")
            for item, reason in zip(items, reasons, strict=True)
        ]

    def reply(self, item: str, completion: Completion, *, last: bool) -> Reply:
        self.seen.append((item, completion, last))
        if self.retry_first and not last:
            return Reply(retry="too long")
        return Reply(item, valid=completion.valid)

    def write(self, rows: list[Any]) -> None:
        self.writes.append(list(rows))


class CountingJob(JobRun):
    advances = 0

    def advance(self, *, done: int = 1, failed: int = 0) -> None:
        type(self).advances += 1
        super().advance(done=done, failed=failed)


@pytest.fixture
def offline(make_endpoint: Callable[..., ModelEndpoint]) -> ModelEndpoint:
    return make_endpoint("offline", model="text")


def test_replies_are_written_in_batches_with_one_job_update_per_flush(
    offline: ModelEndpoint, job_run: JobRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "FLUSH_SECONDS", 3600.0)
    job = CountingJob(job_run.job)
    CountingJob.advances = 0
    handler = Collecting()
    result = work_run(endpoint=offline, items=(f"Question {i}?" for i in range(450)), handler=handler, job=job)
    assert [len(rows) for rows in handler.writes] == [200, 200, 50]
    assert CountingJob.advances == 3  # one job-row update per flush, not one per reply
    assert (result.requested, result.stored, result.done, result.failed) == (450, 450, 450, 0)
    job.job.refresh_from_db()
    assert (job.job.done, job.job.failed) == (450, 0)


def test_a_slow_trickle_is_flushed_by_time(offline: ModelEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FLUSH_SECONDS", 0.0)
    handler = Collecting()
    work_run(endpoint=offline, items=[f"Question {i}?" for i in range(5)], handler=handler)
    assert [len(rows) for rows in handler.writes] == [1, 1, 1, 1, 1]


def test_items_are_read_a_chunk_at_a_time(offline: ModelEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FLUSH_EVERY", 10)
    pulled = {"n": 0}

    def items() -> Iterator[str]:
        for i in range(1000):
            pulled["n"] += 1
            yield f"Question {i}?"

    class Watching(Collecting):
        pulled_at_first_write: int | None = None

        def write(self, rows: list[Any]) -> None:
            if self.pulled_at_first_write is None:
                self.pulled_at_first_write = pulled["n"]
            super().write(rows)

    handler = Watching()
    result = work_run(endpoint=offline, items=items(), handler=handler, chunk_size=50)
    assert handler.pulled_at_first_write == 50  # the first chunk only: memory flat in the number of items
    assert result.stored == 1000


def test_a_reply_that_echoes_its_instructions_reaches_the_handler_invalid(
    make_endpoint: Callable[..., ModelEndpoint], mock_llm: MockLLMServer
) -> None:
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url)
    handler = Collecting()
    result = work_run(endpoint=endpoint, items=["Plain question?", "[[mock:echo]] Echo question?"], handler=handler)
    seen = {item: completion for item, completion, _ in handler.seen}
    assert seen["Plain question?"].valid
    echoed = seen["[[mock:echo]] Echo question?"]
    assert not echoed.valid
    assert echoed.error.startswith(ECHO_ERROR)
    assert "cut off at length" in echoed.error
    assert echoed.raw or echoed.text  # the reply itself stays for the record
    assert (result.stored, result.invalid, result.failed) == (2, 1, 1)


def test_a_retry_asks_again_once_told_why(offline: ModelEndpoint) -> None:
    handler = Collecting(retry_first=True)
    result = work_run(endpoint=offline, items=["Q1?", "Q2?"], handler=handler, retries=1)
    assert handler.asked == [("Q1?", ""), ("Q2?", ""), ("Q1?", "too long"), ("Q2?", "too long")]
    assert [last for _, _, last in handler.seen] == [False, False, True, True]
    assert (result.requested, result.stored) == (2, 2)


def test_a_failed_call_stores_nothing_and_counts_as_failed(
    make_endpoint: Callable[..., ModelEndpoint], mock_llm: MockLLMServer, job_run: JobRun
) -> None:
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, concurrency=1, max_attempts=2)
    mock_llm.enqueue("500", "500")  # the first call fails twice and is given up
    handler = Collecting()
    result = work_run(endpoint=endpoint, items=["Q1?", "Q2?"], handler=handler, job=job_run)
    assert (result.requested, result.stored, result.failed) == (2, 1, 1)
    assert sum(len(rows) for rows in handler.writes) == 1
    job_run.job.refresh_from_db()
    assert (job_run.job.done, job_run.job.failed) == (1, 1)
