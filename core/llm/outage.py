"""An endpoint outage waited out in the open: while calls retry transient errors, the job's note names the endpoint.

A call that meets a transient error (connection refused, 5xx, timeout, 429) retries for the endpoint's retry budget
(``ModelEndpoint.retry_budget_seconds``). Meanwhile the job it works for shows "Waiting for <endpoint> (<base URL>)"
in its note, which its page already displays, and the note goes back to what it was once the endpoint answers.
When the budget is spent the call fails transiently: its item stores nothing, the job ends "finished with failures"
and *Retry the failed items* asks it again — an outage longer than the budget never drops an item.

Calls of ``llm_complete_many`` wait in pool threads, which must not open database connections: they only record
that they wait, and the caller's thread writes the note (``publish``) between results.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from core.llm.models import ModelEndpoint
from core.llm.types import JobProgress, LLMError


@runtime_checkable
class ShowsWaiting(Protocol):
    """A job run that can say what it is waiting for (``core.jobs.JobRun`` can)."""

    def note_waiting(self, note: str) -> None:
        """Show ``note`` on the job while it waits; "" puts back the note it had before."""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no reason given")[:300]


def waiting_note(endpoint: ModelEndpoint, error: LLMError) -> str:
    """What a job's page says while its calls wait for ``endpoint``."""
    where = f" ({endpoint.base_url})" if endpoint.base_url else ""
    return (
        f"Waiting for {endpoint.name}{where}, which is not answering: {_first_line(str(error))}. "
        f"Each call keeps retrying for up to {endpoint.retry_budget_seconds:g} s (the endpoint's retry budget); "
        "items still failing then are left for *Retry the failed items*."
    )


def gave_up(endpoint: ModelEndpoint, error: LLMError, *, waited: float) -> LLMError:
    """The error a call ends with once it stopped retrying: the server's, then which endpoint and for how long."""
    where = f" ({endpoint.base_url})" if endpoint.base_url else ""
    message = f"{error} — {endpoint.name}{where} still failing after {waited:.0f} s of retries"
    return LLMError(message, transient=error.transient, status_code=error.status_code, retry_after=error.retry_after)


class OutageNotice:
    """Which calls to one endpoint are waiting out a transient error, shown on the job ``run`` while any are.

    ``inline``: the calls run in the caller's thread (``llm_complete``), so the note is written at once.
    """

    def __init__(self, endpoint: ModelEndpoint, run: JobProgress | None, *, inline: bool = False) -> None:
        self.endpoint = endpoint
        self.run = run if isinstance(run, ShowsWaiting) else None
        self.inline = inline
        self.stopped = threading.Event()  # set when the caller gives up (a cancelled job): waits end at once
        self._lock = threading.Lock()
        self._waiting: dict[int, str] = {}  # thread id → the note its last error gives
        self._shown = ""

    def waiting(self, error: LLMError, delay: float) -> None:
        """A call is about to wait ``delay`` s after ``error`` (``with_retries``' ``on_wait``)."""
        with self._lock:
            self._waiting[threading.get_ident()] = waiting_note(self.endpoint, error)
        if self.inline:
            self.publish()

    def done(self) -> None:
        """The calling thread's call ended (answered, or gave up)."""
        with self._lock:
            self._waiting.pop(threading.get_ident(), None)
        if self.inline:
            self.publish()

    def sleep(self, seconds: float) -> None:
        """Wait between tries; a caller that stopped ends the wait (the call then fails as it last did)."""
        if self.stopped.wait(seconds):
            raise LLMError("the job stopped while waiting for the endpoint", transient=True)

    def publish(self) -> None:
        """Write the note when it changed (caller's thread only); raises ``JobCancelled`` if the job stopped."""
        if self.run is None:
            return
        with self._lock:
            note = next(iter(self._waiting.values()), "")
        if note != self._shown:
            self._shown = note
            self.run.note_waiting(note)
