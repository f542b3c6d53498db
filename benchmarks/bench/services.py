"""Creating, starting and running a bench run (personalization evaluation).

A run answers every (item, model, method, sample) key, then the critic judges every answer, then — for
``demographic_summary`` — the summary judge lists the attributes each summary dropped. Each stage asks only for the
keys it has not stored (an answer row per key, a verdict / dropped list on it), so a resumed or redelivered job adds
nothing twice, and a call that failed transiently stores nothing and is asked again on the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from benchmarks.bench.config import BenchConfig, bench_config_load
from benchmarks.bench.models import BenchAnswer, BenchItem, BenchRun, Evaluation, Method, Verdict
from benchmarks.bench.prompts import METHODS, critic_request, method_request, summary_request
from benchmarks.bench.sampling import bench_items_sample
from core.jobs import JobRun, job_rerun, job_start
from core.llm.models import ModelEndpoint
from core.llm.service import llm_complete_many
from core.llm.types import Completion, LLMRequest
from core.models import Job

BENCH_RUN_JOB = "benchmarks.bench_run"
_FLUSH_EVERY = 50
_FLUSH_SECONDS = 2.0  # a slow endpoint still shows progress (and keeps its results) every few seconds


@dataclass(frozen=True)
class StageResult:
    requested: int  # calls asked for (keys not stored before)
    stored: int  # replies stored (valid or invalid)
    invalid: int  # stored replies that could not be read
    failed: int  # transient failures: nothing stored, a re-run asks again


@transaction.atomic
def bench_run_create(*, config: BenchConfig, created_by: Any = None) -> BenchRun:
    """Save a validated config as a run; a personalization run draws and stores its items now (fixed from here on)."""
    run = BenchRun.objects.create(
        name=config.name,
        evaluation=config.evaluation,
        config=config.to_json(),
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    if config.evaluation == Evaluation.PERSONALIZATION:
        BenchItem.objects.bulk_create(
            BenchItem(run=run, position=position, persona_id=persona, prompt_id=prompt, pair_id=pair)
            for position, (persona, prompt, pair) in enumerate(bench_items_sample(config=config))
        )
    return run


def bench_run_start(*, run: BenchRun, started_by: Any = None) -> Job:
    """Start the run's job, or resume it: a failed or cancelled job is re-run and does only what is left."""
    if run.job is not None and run.job.can_rerun:
        return job_rerun(job=run.job)
    job = job_start(kind=BENCH_RUN_JOB, started_by=started_by, params={"run_id": run.pk})
    if run.job_id != job.pk:
        BenchRun.objects.filter(pk=run.pk).update(job=job)
        run.job = job
    return job


class _Writer:
    """Buffers new rows and updates and reports progress in chunks (50 results or 2 s); on a cancel the rows
    already read are kept."""

    def __init__(self, run: JobRun | None, update_fields: list[str] | None = None) -> None:
        self.run = run
        self.update_fields = update_fields
        self.rows: list[BenchAnswer] = []
        self.done = 0
        self.failed = 0
        self.flushed_at = time.monotonic()

    def add(self, row: BenchAnswer | None, *, done: int = 0, failed: int = 0) -> None:
        if row is not None:
            self.rows.append(row)
        self.done += done
        self.failed += failed
        if len(self.rows) + self.failed >= _FLUSH_EVERY or time.monotonic() - self.flushed_at >= _FLUSH_SECONDS:
            self.flush()

    def flush(self, *, progress: bool = True) -> None:
        self.flushed_at = time.monotonic()
        if self.rows:
            with transaction.atomic():
                if self.update_fields:
                    # An upsert on the primary key: one INSERT … ON CONFLICT DO UPDATE, several times cheaper for
                    # Django to build than bulk_update's CASE WHEN per field and row (measured: bin/perf bench).
                    BenchAnswer.objects.bulk_create(
                        self.rows, update_conflicts=True, unique_fields=["id"], update_fields=self.update_fields
                    )
                else:
                    BenchAnswer.objects.bulk_create(self.rows, ignore_conflicts=True)
            self.rows.clear()
        if progress:
            if self.run is not None and (self.done or self.failed):
                self.run.advance(done=self.done, failed=self.failed)
            self.done = self.failed = 0


def _usage(row: BenchAnswer, completion: Completion) -> None:
    row.input_tokens += completion.usage.input_tokens + completion.usage.cache_read_tokens
    row.output_tokens += completion.usage.output_tokens
    row.cost_usd += completion.cost_usd


def _complete(
    *,
    endpoint: ModelEndpoint,
    requests: list[Any],
    run: JobRun | None,
    writer: _Writer,
    on_result: Callable[[int, Completion], None],
) -> None:
    try:
        if requests:
            llm_complete_many(endpoint=endpoint, requests=requests, run=run, on_result=on_result)
    finally:
        writer.flush(progress=False)
    writer.flush()


def bench_answers_generate(*, run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> StageResult:
    """Stage 1: every model answers every item with every method, ``config.samples`` times."""
    items = list(run.items.select_related("persona", "prompt"))
    totals = {"requested": 0, "stored": 0, "invalid": 0, "failed": 0}
    for endpoint in ModelEndpoint.objects.filter(name__in=config.models).order_by("name"):
        stored = set(BenchAnswer.objects.filter(run=run, endpoint=endpoint).values_list("item_id", "method", "sample"))
        todo = [
            (item, method, sample)
            for item in items
            for method in config.methods
            for sample in range(config.samples)
            if (item.pk, method, sample) not in stored
        ]
        requests = [
            method_request(
                method=method, persona=item.persona.attributes, question=item.prompt.text,
                key=f"bench-{run.pk}-item-{item.pk}-{endpoint.pk}-{method}", sample=sample,
            )
            for item, method, sample in todo
        ]  # fmt: skip
        writer = _Writer(job)

        def on_result(
            index: int,
            completion: Completion,
            todo: list[Any] = todo,
            endpoint: Any = endpoint,
            writer: _Writer = writer,
        ) -> None:
            if not completion.valid and completion.transient:
                totals["failed"] += 1
                writer.add(None, failed=1)
                return
            item, method, sample = todo[index]
            row = BenchAnswer(run=run, item=item, endpoint=endpoint, method=method, sample=sample)
            row.answer_raw = (completion.raw or completion.text)[:50_000]
            _usage(row, completion)
            answer = str(completion.fields.get("answer", "")).strip() if completion.valid else ""
            totals["stored"] += 1
            if not answer:
                row.verdict = Verdict.NO_ANSWER
                row.answer_error = (completion.error or "empty answer")[:2000]
                if method == Method.DEMOGRAPHIC_SUMMARY:
                    row.summary_error = "no usable answer"
                totals["invalid"] += 1
                # The critic (and summary) stages have nothing to do for this key: count them as done too.
                writer.add(row, done=1, failed=1 + (method == Method.DEMOGRAPHIC_SUMMARY))
                return
            row.answer = answer[:50_000]
            spec = METHODS[method]
            if spec.intermediate is not None:
                row.intermediate = str(completion.fields.get(spec.intermediate.name, ""))[:50_000]
            writer.add(row, done=1)

        _complete(endpoint=endpoint, requests=requests, run=job, writer=writer, on_result=on_result)
        totals["requested"] += len(requests)
    return StageResult(**totals)


def _stage_run(
    *,
    run: BenchRun,
    stage: str,
    job: JobRun | None,
    endpoint: ModelEndpoint,
    pending: list[BenchAnswer],
    request: Callable[..., LLMRequest],
    store: Callable[[BenchAnswer, Completion], bool],
    update_fields: list[str],
) -> StageResult:
    """Ask ``endpoint`` once per pending answer row and upsert what ``store`` wrote on it (``update_fields``).

    ``request(row, persona=…, question=…, key=…)`` builds the stage's call about the row's answer; the key,
    ``bench-<run>-<stage>-<row>``, is the same on every run. ``store`` fills the row from a reply and says whether
    the reply could be read: a readable one counts as done, an unreadable one is stored and counts as failed. A
    transient failure stores nothing (the row stays pending, so the next run asks again) and counts as failed.
    """
    requests = [
        request(row, persona=row.item.persona.attributes, question=row.item.prompt.text,
                key=f"bench-{run.pk}-{stage}-{row.pk}")
        for row in pending
    ]  # fmt: skip
    writer = _Writer(job, update_fields=[*update_fields, "input_tokens", "output_tokens", "cost_usd"])
    counts = {"stored": 0, "invalid": 0, "failed": 0}

    def on_result(index: int, completion: Completion) -> None:
        if not completion.valid and completion.transient:
            counts["failed"] += 1
            writer.add(None, failed=1)
            return
        row = pending[index]
        _usage(row, completion)
        counts["stored"] += 1
        if store(row, completion):
            writer.add(row, done=1)
        else:
            counts["invalid"] += 1
            writer.add(row, failed=1)

    _complete(endpoint=endpoint, requests=requests, run=job, writer=writer, on_result=on_result)
    return StageResult(len(requests), counts["stored"], counts["invalid"], counts["failed"])


def _pending(answers: QuerySet[BenchAnswer]) -> list[BenchAnswer]:
    return list(answers.select_related("item__persona", "item__prompt").order_by("pk"))


_CRITIC_FIELDS = [
    "verdict", "critic_reasoning", "personalization_critique", "helpfulness_critique", "critic_raw", "critic_error",
    "critic_attempts",
]  # fmt: skip


def _critic_retry() -> Q:
    """Invalid critic replies a re-run asks again: kept for the record, but no verdict (``LLM_INVALID_RETRIES``)."""
    return Q(verdict=Verdict.INVALID, critic_attempts__lte=settings.LLM_INVALID_RETRIES)


def _critic_store(row: BenchAnswer, completion: Completion) -> bool:
    row.critic_attempts += 1
    row.critic_raw = (completion.raw or completion.text)[:50_000]
    if not completion.valid:
        row.verdict = Verdict.INVALID
        row.critic_error = completion.error[:2000]
        return False
    fields = completion.fields
    row.verdict = Verdict.REVISE if fields["needs_revision"] else Verdict.PASS
    row.critic_reasoning = fields["reasoning"][:20_000]
    row.personalization_critique = fields["personalization_critique"][:20_000]
    row.helpfulness_critique = fields["helpfulness_critique"][:20_000]
    row.critic_error = ""
    return True


def bench_answers_critique(*, run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> StageResult:
    """Stage 2: the critic judges every answer not judged yet; garbage replies are stored as ``invalid`` and asked
    again by a re-run, up to ``LLM_INVALID_RETRIES`` more times."""
    return _stage_run(
        run=run,
        stage="critic",
        job=job,
        endpoint=ModelEndpoint.objects.get(name=config.critic),
        pending=_pending(BenchAnswer.objects.filter(Q(verdict=Verdict.PENDING) | _critic_retry(), run=run)),
        request=lambda row, **asked: critic_request(**asked, answer=row.answer),
        store=_critic_store,
        update_fields=_CRITIC_FIELDS,
    )


def _summary_store(row: BenchAnswer, completion: Completion) -> bool:
    if not completion.valid:
        row.summary_error = (completion.error or "invalid reply")[:2000]
        return False
    row.dropped_attributes = list(dict.fromkeys(completion.fields["dropped"]))
    return True


def bench_summaries_analyse(*, run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> StageResult:
    """Stage 3 (figure 11): for each demographic summary, the judge lists the profile attributes it dropped."""
    if Method.DEMOGRAPHIC_SUMMARY not in config.methods:
        return StageResult(0, 0, 0, 0)
    summaries = BenchAnswer.objects.filter(
        run=run, method=Method.DEMOGRAPHIC_SUMMARY, dropped_attributes__isnull=True, summary_error=""
    )
    return _stage_run(
        run=run,
        stage="summary",
        job=job,
        endpoint=ModelEndpoint.objects.get(name=config.summary_judge or config.critic),
        pending=_pending(summaries),
        request=lambda row, **asked: summary_request(**asked, summary=row.intermediate),
        store=_summary_store,
        update_fields=["dropped_attributes", "summary_error"],
    )


def bench_run_progress(*, run: BenchRun, config: BenchConfig) -> tuple[int, int, int]:
    """(work units in the run, units already stored, of those the ones that failed for good): one per answer, one
    per verdict, one per summary analysis. An invalid verdict still to be asked again is not stored; one past its
    retries is stored and failed."""
    keys = run.items.count() * len(config.models) * len(config.methods) * config.samples
    summaries = keys // max(1, len(config.methods)) if Method.DEMOGRAPHIC_SUMMARY in config.methods else 0
    answers = BenchAnswer.objects.filter(run=run)
    given_up = answers.filter(verdict=Verdict.INVALID).exclude(_critic_retry()).count()
    done = (
        answers.count()
        + answers.exclude(verdict=Verdict.PENDING).exclude(_critic_retry()).count()
        + answers.filter(method=Method.DEMOGRAPHIC_SUMMARY)
        .filter(Q(dropped_attributes__isnull=False) | ~Q(summary_error=""))
        .count()
    )
    return 2 * keys + summaries, done, given_up


def bench_run_execute(*, run: BenchRun, job: JobRun | None = None) -> dict[str, StageResult]:
    """Run (or resume) every stage of a personalization run; returns what each stage did this time."""
    config = bench_config_load(run.config)
    if job is not None:
        total, done, given_up = bench_run_progress(run=run, config=config)
        job.set_total(total, already_done=done - given_up)
        if given_up:
            job.advance(done=0, failed=given_up)
    return {
        "answers": bench_answers_generate(run=run, config=config, job=job),
        "critic": bench_answers_critique(run=run, config=config, job=job),
        "summaries": bench_summaries_analyse(run=run, config=config, job=job),
    }
