"""The one runner for LLM work items: judges, verification, bench, leave-one-out, dataset stages, persona checks.

    result = work_run(endpoint=endpoint, items=pending_items(), handler=MyHandler(...), job=job)

``items`` is an iterator of whatever the caller calls an item (a key, a row): the runner takes it ``chunk_size``
at a time, so memory stays flat in the number of items. For each chunk the handler builds the requests
(``requests``, so it can load what they need in bulk), the calls run through ``llm_complete_many`` (bounded
concurrency through the endpoint's limiter, or a provider's batch API), and each reply lands in ``reply`` in the
caller's thread, which turns it into a ``Reply``: the row to store and whether it is a result (done) or an invalid
reply (stored for the record, counted as failed, asked again by a re-run up to the caller's cap). A call that
failed for good after the retries (an outage) stores nothing and counts as failed: the item is still pending, so a
re-run asks it again.

The writer buffers rows and flushes them through ``handler.write`` in one transaction, at least every
``FLUSH_EVERY`` replies or ``FLUSH_SECONDS``, with one progress update of the job per flush. A worker killed
mid-run loses at most the replies since the last flush; resuming is the caller's "what is already stored" (its
``items`` leave out what is stored), so those are asked again. On a cancel the rows already read are written.

Every reply goes through the echo guard first (``core.llm.echo``): one whose text reproduces its request's
instructions is made invalid, so the handler refuses it like an empty reply.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db import transaction

from core.llm.echo import echo_refused
from core.llm.models import ModelEndpoint
from core.llm.service import llm_complete_many
from core.llm.types import Completion, JobProgress, LLMRequest

T = TypeVar("T")

# Each chunk ends with a tail in which the pool drains (about half a latency at less than full concurrency), so
# chunks must be long: at 500 the bench run fell from 0.93 to 0.89 of ideal throughput, at 2,000 it is back to
# 0.92 (bin/perf bench). Memory is still flat in the number of items (bin/perf runner_memory).
CHUNK_SIZE = 2000
FLUSH_EVERY = 200
FLUSH_SECONDS = 1.0  # a crash loses at most about a second of replies (the resume asks them again)


@dataclass
class Reply:
    """What the handler made of one reply.

    ``row`` is handed to ``write`` (None: nothing to store). ``valid`` says whether it is a result; an invalid one
    is stored but counts as failed. ``done``/``failed`` override the progress units the reply settles (e.g. an
    answer with nothing in it also settles the stages that would have used it). ``retry`` asks the item again at
    once, told why (the stages' revise-and-retry), while the run has retries left (``work_run(retries=…)``).
    """

    row: Any = None
    valid: bool = True
    done: int | None = None
    failed: int | None = None
    retry: str = ""

    def units(self) -> tuple[int, int]:
        done = self.done if self.done is not None else int(self.valid)
        failed = self.failed if self.failed is not None else int(not self.valid)
        return done, failed


@dataclass
class RunResult:
    """What one run did: items asked; replies stored (valid or invalid); of those, the invalid ones (asked again by a
    re-run up to the caller's cap); items that ended failed (an invalid reply, or a call that failed for good after
    its retries, which stores nothing and is asked again by a re-run); items left out as already stored."""

    requested: int = 0
    stored: int = 0
    invalid: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        """Items that ended with a result."""
        return self.stored - self.invalid

    def __add__(self, other: RunResult) -> RunResult:
        return RunResult(
            self.requested + other.requested,
            self.stored + other.stored,
            self.invalid + other.invalid,
            self.failed + other.failed,
            self.skipped + other.skipped,
        )


class WorkHandler(Protocol[T]):
    """What a kind of work item plugs into the runner."""

    def requests(self, items: list[T], *, retry: list[str] | None = None) -> list[LLMRequest]:
        """One request per item, in order; ``retry`` (one reason per item) when they are asked again at once."""
        ...

    def reply(self, item: T, completion: Completion, *, last: bool) -> Reply:
        """The row a reply stores; ``last`` is False while a ``Reply.retry`` would still be honoured."""
        ...

    def write(self, rows: list[Any]) -> None:
        """Store the buffered rows (inside the flush's transaction); every write is an upsert, so twice is harmless."""
        ...


class Writer(Generic[T]):
    """Buffers rows and progress; flushes by count and time, one transaction and one job update per flush."""

    def __init__(self, *, handler: WorkHandler[T], job: JobProgress | None) -> None:
        self.handler = handler
        self.job = job
        self.rows: list[Any] = []
        self.done = 0
        self.failed = 0
        self.replies = 0
        self.flushed_at = time.monotonic()

    def settle(self, *, done: int = 0, failed: int = 0) -> None:
        """Progress units settled without a call (e.g. items found stored, or past their retries)."""
        self.done += done
        self.failed += failed

    def add(self, row: Any, *, done: int, failed: int) -> None:
        if row is not None:
            self.rows.append(row)
        self.settle(done=done, failed=failed)
        self.replies += 1
        if self.replies >= FLUSH_EVERY or time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self, *, progress: bool = True) -> None:
        self.flushed_at = time.monotonic()
        self.replies = 0
        if self.rows:
            with transaction.atomic():
                self.handler.write(self.rows)
            self.rows = []
        if progress and self.job is not None and (self.done or self.failed):
            self.job.advance(done=self.done, failed=self.failed)
        if progress:
            self.done = self.failed = 0


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` as lists of at most ``size``, read lazily."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def work_run(
    *,
    endpoint: ModelEndpoint,
    items: Iterable[T],
    handler: WorkHandler[T],
    job: JobProgress | None = None,
    writer: Writer[T] | None = None,
    chunk_size: int = CHUNK_SIZE,
    use_batch: bool = False,
    retries: int = 0,
    units: Callable[[T], int] | None = None,
) -> RunResult:
    """Ask ``endpoint`` about every item and store what ``handler`` makes of each reply (see the module docstring).

    Pass a ``writer`` made beforehand when the item iterator itself settles progress (``writer.settle``) for the
    items it leaves out. ``units(item)`` is how many progress units an item stands for when its call fails (one
    by default; a reply says its own with ``Reply.done``/``failed``).
    """
    writer = writer or Writer(handler=handler, job=job)
    result = RunResult()
    try:
        for chunk in chunked(items, chunk_size):
            _run_chunk(endpoint, chunk, handler, job, writer, result, use_batch=use_batch, retries=retries, units=units)
    except BaseException:
        writer.flush(progress=False)  # keep what was read; the job has stopped (or failed), its counts stay
        raise
    writer.flush()
    return result


def _run_chunk(
    endpoint: ModelEndpoint,
    chunk: list[T],
    handler: WorkHandler[T],
    job: JobProgress | None,
    writer: Writer[T],
    result: RunResult,
    *,
    use_batch: bool,
    retries: int,
    units: Callable[[T], int] | None,
) -> None:
    result.requested += len(chunk)
    reasons: list[str] | None = None
    for attempt in range(retries + 1):
        requests = handler.requests(chunk, retry=reasons)
        again: list[tuple[T, str]] = []
        last = attempt == retries

        def on_result(
            index: int,
            completion: Completion,
            chunk: list[T] = chunk,
            requests: list[LLMRequest] = requests,
            again: list[tuple[T, str]] = again,
            last: bool = last,
        ) -> None:
            if not completion.valid and completion.transient:  # an outage: nothing stored, the item stays pending
                result.failed += 1
                writer.add(None, done=0, failed=units(chunk[index]) if units else 1)
                return
            reply = handler.reply(chunk[index], echo_refused(completion, requests[index]), last=last)
            if reply.retry and not last:
                again.append((chunk[index], reply.retry))
                return
            done, failed = reply.units()
            result.stored += reply.row is not None
            result.invalid += not reply.valid
            result.failed += not reply.valid
            writer.add(reply.row, done=done, failed=failed)

        if requests:
            llm_complete_many(endpoint=endpoint, requests=requests, run=job, use_batch=use_batch, on_result=on_result)
        if not again:
            return
        chunk = [item for item, _ in again]
        reasons = [reason for _, reason in again]
