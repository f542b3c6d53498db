"""The study report's lifecycle: a cheap freshness key on the inputs, compute as a job, store a snapshot (each table in
its own row), serve it while fresh.

A snapshot (``annotation.ReportSnapshot``, scope ``"study:<id>"``) is fresh while the fingerprint of the study's
inputs is unchanged. The fingerprint is a handful of aggregates the database answers from indexes, never a read of
every answer: the counted raters (their ids and personas), their answers (count, how many of each choice, the newest
save), the study's items, the judgments on them (count, newest change, highest id), the judges' names and the report
code version. Any change makes the page show the previous snapshot marked stale and queue a recompute.

Why derived, not a counter on the study: the answer save is the hot path of a running study, and a per-study counter
bumped there would take a row lock on the study that every participant's save waits for (they would run one at a
time); a counter bumped only at submit would miss changes after it (a review that excludes a rater, an answer
corrected in the admin). Aggregates over the answers of the study's counted raters see all of it and add nothing to
any write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from annotation.models import Answer, Participant, Question, Study, StudyPersona
from annotation.reports.models import ReportSnapshot, ReportTable
from annotation.reports.ratings import study_ratings
from annotation.reports.storage import report_table_write
from annotation.reports.study_report import REPORT_VERSION, report_parts
from benchmarks.judging.models import Choice, Judge, Judgment
from core.jobs import JobRun, job_start
from core.models import Job

REPORT_JOB = "annotation.study_report"


class StoredTables(Mapping[str, dict[str, Any]]):
    """A stored report's tables, each read from its own row when first asked for (a 247-byte table is served
    without reading the 20 MB of the others)."""

    def __init__(self, snapshot_id: int, names: Iterable[str]) -> None:
        self._snapshot_id = snapshot_id
        self._names = list(names)
        self._loaded: dict[str, dict[str, Any]] = {}

    def load(self, names: Iterable[str]) -> StoredTables:
        """Read these tables in one query (the page shows a dozen)."""
        wanted = [name for name in names if name in self._names and name not in self._loaded]
        if wanted:
            rows = ReportTable.objects.filter(snapshot_id=self._snapshot_id, name__in=wanted)
            self._loaded.update(rows.values_list("name", "data"))
        return self

    def __getitem__(self, name: str) -> dict[str, Any]:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._loaded:
            self.load([name])
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(frozen=True)
class ReportState:
    study: Study
    fingerprint: str
    snapshot: ReportSnapshot | None
    job: Job | None = None

    @property
    def fresh(self) -> bool:
        return self.snapshot is not None and self.snapshot.fingerprint == self.fingerprint

    @property
    def data(self) -> dict[str, Any] | None:
        """The stored report; its ``tables`` read one by one as they are used (``StoredTables``)."""
        if self.snapshot is None:
            return None
        data = self.snapshot.data
        if isinstance(data.get("tables"), dict):  # stored before tables had rows of their own
            return data
        base = {key: value for key, value in data.items() if key != "table_names"}
        return {**base, "tables": StoredTables(self.snapshot.pk, data.get("table_names", []))}

    def full_data(self) -> dict[str, Any] | None:
        """The whole stored report with every table, for the report's JSON download and the API."""
        data = self.data
        if data is None:
            return None
        tables = data["tables"]
        if isinstance(tables, StoredTables):
            tables.load(tables)
        return {**data, "tables": dict(tables)}


def report_scope(study_id: int) -> str:
    return f"study:{study_id}"


def study_has_completed_participants(*, study: Study) -> bool:
    return Participant.objects.filter(study=study).counted().exists()


def report_fingerprint(*, study: Study) -> str:
    """The freshness key of everything the report reads (see the module docstring): a few aggregate queries, no
    row of the study's answers leaves the database."""
    digest = hashlib.sha256(f"v{REPORT_VERSION}:threshold={study.majority_threshold}".encode())
    raters = Participant.objects.filter(study=study).counted().order_by("pk")
    digest.update(repr(list(raters.values_list("pk", "study_persona_id"))).encode())
    answers = Answer.objects.filter(participant__study=study).counted()
    digest.update(
        repr(
            sorted(
                answers.aggregate(
                    n=Count("pk"),
                    chosen=Count("pk", filter=Q(choice=Choice.CHOSEN)),
                    rejected=Count("pk", filter=Q(choice=Choice.REJECTED)),
                    newest=Max("updated_at"),
                    last=Max("pk"),
                ).items()
            )
        ).encode()
    )
    questions = Question.objects.filter(study_persona__study=study, kind=Question.Kind.PAIR)
    items = questions.aggregate(n=Count("pk"), last=Max("pk"), pairs=Sum("pair_id"), personas=Sum("study_persona_id"))
    digest.update(repr(sorted(items.items())).encode())
    # Every judgment on the study's personas (a judgment of one of them on another study's pair only makes the
    # report recompute once more; filtering by pair as well doubled the query's time at 1,586 personas).
    personas = StudyPersona.objects.filter(study=study).values("persona_id")
    judgments = Judgment.objects.filter(persona_id__in=personas).aggregate(
        count=Count("pk"), newest=Max("updated_at"), last=Max("pk")
    )
    digest.update(repr(sorted(judgments.items())).encode())
    digest.update(repr(list(Judge.objects.order_by("pk").values_list("pk", "name"))).encode())
    return digest.hexdigest()


def report_refresh(*, study: Study, job: Job | None = None) -> ReportState:
    """Compute the report now and store it, each table in its own row, written as it is made (the report job never
    holds every table at once). The fingerprint is taken first: a change made while computing leaves the stored
    snapshot stale, so it is computed again."""
    fingerprint = report_fingerprint(study=study)
    data, tables = report_parts(ratings=study_ratings(study=study), fingerprint=fingerprint)
    names = []
    with transaction.atomic():
        snapshot, _ = ReportSnapshot.objects.update_or_create(
            scope=report_scope(study.pk), defaults={"fingerprint": fingerprint, "data": data, "job": job}
        )
        ReportTable.objects.filter(snapshot=snapshot).delete()
        for name, table in tables:
            report_table_write(snapshot_id=snapshot.pk, name=name, table=table)
            names.append(name)
        snapshot.data = {**data, "table_names": names}
        snapshot.save(update_fields=["data"])
    return ReportState(study=study, fingerprint=fingerprint, snapshot=snapshot)


def report_state(*, study: Study) -> ReportState:
    return ReportState(
        study=study,
        fingerprint=report_fingerprint(study=study),
        snapshot=ReportSnapshot.objects.filter(scope=report_scope(study.pk)).first(),
    )


def report_stored(*, study: Study) -> ReportState:
    """The stored report without its freshness: what a table download or a figure serves (the fresh report or,
    while a recompute runs, the previous one — the page says which). Reads one row, never the study's answers."""
    snapshot = ReportSnapshot.objects.filter(scope=report_scope(study.pk)).first()
    return ReportState(study=study, fingerprint=snapshot.fingerprint if snapshot else "", snapshot=snapshot)


def report_ensure(*, study: Study, started_by: Any = None) -> ReportState:
    """The current state; when the snapshot is missing or stale, a recompute job is queued (once per inputs)."""
    state = report_state(study=study)
    if state.fresh:
        return state
    job = job_start(
        kind=REPORT_JOB, started_by=started_by, params={"study_id": study.pk, "fingerprint": state.fingerprint}
    )
    return ReportState(study, state.fingerprint, state.snapshot, job)


def report_job_run(run: JobRun) -> None:
    """Job handler: compute and store one study's report (idempotent: a fresh snapshot is left alone)."""
    study = Study.objects.get(pk=run.params["study_id"])
    run.set_total(1, already_done=0)
    if not report_state(study=study).fresh:
        report_refresh(study=study, job=run.job)
    run.advance()
