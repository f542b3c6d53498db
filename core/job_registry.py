"""The job-kind registry: each app's ``job_kinds`` module registers its handlers here when the app loads.

It is its own module so that the model (``Job.label``) and the services (``core.jobs``) can both read it without
importing each other. It sits below both, so it names what it needs of them as Protocols (``StoredJob``,
``HandlerRun``) instead of importing them, even for type hints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class StoredJob(Protocol):
    """A job row as the registry and its kinds' callbacks read it; ``core.models.Job`` is one."""

    pk: Any
    kind: str
    params: dict[str, Any]


@runtime_checkable
class HandlerRun(Protocol):
    """What a handler is given: the job's parameters and the calls that report progress; ``core.jobs.JobRun`` is
    one. Every call raises when the job has stopped running (cancelled, or taken over)."""

    @property
    def job(self) -> Any: ...

    @property
    def params(self) -> dict[str, Any]: ...

    def set_total(self, total: int, *, already_done: int | None = None) -> None: ...

    def advance(self, *, done: int = 1, failed: int = 0) -> None: ...

    def add_usage(self, *, input_tokens: int = 0, output_tokens: int = 0, cost_usd: Decimal = ...) -> None: ...

    def check_running(self) -> None: ...


Handler = Callable[[HandlerRun], None]


@dataclass(frozen=True)
class JobFact:
    """One line of a job's own page: what was asked for (dataset, size, endpoints) or where its results are."""

    label: str
    value: str
    url: str = ""


Describe = Callable[[StoredJob], list[JobFact]]
Outcome = Callable[[StoredJob], JobFact | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    handler: Handler
    # Who may start it from the Jobs page, as "app_label.codename"; None = not startable there.
    start_permission: str | None = None
    # The facts its page shows; None = the raw parameters.
    describe: Describe | None = None
    # Where a finished job's results are (the link its pages show once it has succeeded); None = nowhere to go.
    outcome: Outcome | None = None


_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    name: str,
    *,
    label: str,
    start_permission: str | None = None,
    describe: Describe | None = None,
    outcome: Outcome | None = None,
) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        _KINDS[name] = JobKind(
            name=name,
            label=label,
            handler=handler,
            start_permission=start_permission,
            describe=describe,
            outcome=outcome,
        )
        return handler

    return decorate


def job_facts(job: StoredJob) -> list[JobFact]:
    """What the job was asked to do, as its kind describes it (the raw parameters for a kind without words)."""
    kind = _KINDS.get(job.kind)
    if kind is not None and kind.describe is not None:
        return kind.describe(job)
    return [JobFact(label=str(key), value=str(value)) for key, value in sorted((job.params or {}).items())]


def job_outcome(job: StoredJob) -> JobFact | None:
    """The link to what ``job`` made, as its kind names it (None for a kind without one)."""
    kind = _KINDS.get(job.kind)
    return kind.outcome(job) if kind is not None and kind.outcome is not None else None


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def job_kind_get(name: str) -> JobKind | None:
    return _KINDS.get(name)


def job_kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name
