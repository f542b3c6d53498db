"""The job-kind registry: each app's ``job_kinds`` module registers its handlers here when the app loads.

It is its own module so that the model (``Job.label``) and the services (``core.jobs``) can both read it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.jobs import JobRun

Handler = Callable[["JobRun"], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    handler: Handler
    # Who may start it from the Jobs page, as "app_label.codename"; None = not startable there.
    start_permission: str | None = None


_KINDS: dict[str, JobKind] = {}


def register_job_kind(name: str, *, label: str, start_permission: str | None = None) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        _KINDS[name] = JobKind(name=name, label=label, handler=handler, start_permission=start_permission)
        return handler

    return decorate


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def job_kind_get(name: str) -> JobKind | None:
    return _KINDS.get(name)


def job_kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name
