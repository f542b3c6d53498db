"""Creating, starting and running a bench run (personalization evaluation).

A run answers every (item, model, method, sample) key, then the critic judges every answer, then — for
``demographic_summary`` — the summary judge lists the attributes each summary dropped. Each stage asks only for the
keys it has not stored (an answer row per key, a verdict / dropped list on it), so a resumed or redelivered job adds
nothing twice, and a call that failed transiently stores nothing and is asked again on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
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
from core.llm.runner import Reply, RunResult, work_run
from core.llm.types import Completion, LLMRequest
from core.models import Job

BENCH_RUN_JOB = "benchmarks.bench_run"


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


def bench_run_start(*, bench_run: BenchRun, started_by: Any = None) -> Job:
    """Start the run's job, or resume it: a failed or cancelled job is re-run and does only what is left."""
    if bench_run.job is not None and bench_run.job.can_rerun:
        return job_rerun(job=bench_run.job)
    job = job_start(kind=BENCH_RUN_JOB, started_by=started_by, params={"run_id": bench_run.pk})
    if bench_run.job_id != job.pk:
        BenchRun.objects.filter(pk=bench_run.pk).update(job=job)
        bench_run.job = job
    return job


def _usage(row: BenchAnswer, completion: Completion) -> None:
    row.input_tokens += completion.usage.input_tokens + completion.usage.cache_read_tokens
    row.output_tokens += completion.usage.output_tokens
    row.cost_usd += completion.cost_usd


AnswerKey = tuple[BenchItem, str, int]  # (item, method, sample)


class _AnswerHandler:
    """Stage 1 as runner work: a key in, a ``BenchAnswer`` out. An answer with nothing in it (an empty, invalid or
    echoed reply) is stored as ``no_answer`` and also settles the critic (and summary) unit it would have fed."""

    def __init__(self, bench_run: BenchRun, endpoint: ModelEndpoint) -> None:
        self.bench_run, self.endpoint = bench_run, endpoint

    def requests(self, items: list[AnswerKey], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [
            method_request(
                method=method,
                persona=item.persona.attributes,
                question=item.prompt.text,
                key=f"bench-{self.bench_run.pk}-item-{item.pk}-{self.endpoint.pk}-{method}",
                sample=sample,
            )
            for item, method, sample in items
        ]

    def reply(self, key: AnswerKey, completion: Completion, *, last: bool) -> Reply:
        item, method, sample = key
        row = BenchAnswer(run=self.bench_run, item=item, endpoint=self.endpoint, method=method, sample=sample)
        row.answer_raw = (completion.raw or completion.text)[:50_000]
        _usage(row, completion)
        answer = str(completion.fields.get("answer", "")).strip() if completion.valid else ""
        if not answer:
            row.verdict = Verdict.NO_ANSWER
            row.answer_error = (completion.error or "empty answer")[:2000]
            if method == Method.DEMOGRAPHIC_SUMMARY:
                row.summary_error = "no usable answer"
            return Reply(row, valid=False, done=1, failed=1 + (method == Method.DEMOGRAPHIC_SUMMARY))
        row.answer = answer[:50_000]
        spec = METHODS[method]
        if spec.intermediate is not None:
            row.intermediate = str(completion.fields.get(spec.intermediate.name, ""))[:50_000]
        return Reply(row)

    def write(self, rows: list[BenchAnswer]) -> None:
        BenchAnswer.objects.bulk_create(rows, ignore_conflicts=True)


def bench_answers_generate(*, bench_run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> RunResult:
    """Stage 1: every model answers every item with every method, ``config.samples`` times."""
    items = list(bench_run.items.select_related("persona", "prompt"))
    result = RunResult()
    for endpoint in ModelEndpoint.objects.filter(name__in=config.models).order_by("name"):
        stored = set(
            BenchAnswer.objects.filter(run=bench_run, endpoint=endpoint).values_list("item_id", "method", "sample")
        )
        todo = (
            (item, method, sample)
            for item in items
            for method in config.methods
            for sample in range(config.samples)
            if (item.pk, method, sample) not in stored
        )
        result += work_run(endpoint=endpoint, items=todo, handler=_AnswerHandler(bench_run, endpoint), job=job)
    return result


class _RowStage:
    """A stage that asks about each pending answer row once and upserts what ``store`` wrote on it.

    ``request(row, persona=…, question=…, key=…)`` builds the stage's call about the row's answer; the key,
    ``bench-<run>-<stage>-<row>``, is the same on every run. ``store`` fills the row from a reply and says whether
    the reply could be read: a readable one counts as done, an unreadable one is stored and counts as failed. A
    transient failure stores nothing (the row stays pending, so the next run asks again) and counts as failed.
    """

    def __init__(
        self,
        *,
        bench_run: BenchRun,
        stage: str,
        request: Callable[..., LLMRequest],
        store: Callable[[BenchAnswer, Completion], bool],
        update_fields: list[str],
    ) -> None:
        self.bench_run, self.stage, self.request, self.store = bench_run, stage, request, store
        self.update_fields = [*update_fields, "input_tokens", "output_tokens", "cost_usd"]

    def requests(self, items: list[BenchAnswer], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [
            self.request(
                row,
                persona=row.item.persona.attributes,
                question=row.item.prompt.text,
                key=f"bench-{self.bench_run.pk}-{self.stage}-{row.pk}",
            )
            for row in items
        ]

    def reply(self, row: BenchAnswer, completion: Completion, *, last: bool) -> Reply:
        _usage(row, completion)
        return Reply(row, valid=self.store(row, completion))

    def write(self, rows: list[BenchAnswer]) -> None:
        # An upsert on the primary key: one INSERT … ON CONFLICT DO UPDATE, several times cheaper for Django to
        # build than bulk_update's CASE WHEN per field and row (measured: bin/perf bench).
        BenchAnswer.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["id"], update_fields=self.update_fields
        )


def _pending(answers: QuerySet[BenchAnswer]) -> list[BenchAnswer]:
    return list(answers.select_related("item__persona", "item__prompt").order_by("pk"))


_CRITIC_FIELDS = [
    "verdict",
    "critic_reasoning",
    "personalization_critique",
    "helpfulness_critique",
    "critic_raw",
    "critic_error",
    "critic_attempts",
]


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


def bench_answers_critique(*, bench_run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> RunResult:
    """Stage 2: the critic judges every answer not judged yet; garbage replies are stored as ``invalid`` and asked
    again by a re-run, up to ``LLM_INVALID_RETRIES`` more times."""
    stage = _RowStage(
        bench_run=bench_run,
        stage="critic",
        request=lambda row, **asked: critic_request(**asked, answer=row.answer),
        store=_critic_store,
        update_fields=_CRITIC_FIELDS,
    )
    pending = _pending(BenchAnswer.objects.filter(Q(verdict=Verdict.PENDING) | _critic_retry(), run=bench_run))
    return work_run(endpoint=ModelEndpoint.objects.get(name=config.critic), items=pending, handler=stage, job=job)


def _summary_store(row: BenchAnswer, completion: Completion) -> bool:
    if not completion.valid:
        row.summary_error = (completion.error or "invalid reply")[:2000]
        return False
    row.dropped_attributes = list(dict.fromkeys(completion.fields["dropped"]))
    return True


def bench_summaries_analyse(*, bench_run: BenchRun, config: BenchConfig, job: JobRun | None = None) -> RunResult:
    """Stage 3 (figure 11): for each demographic summary, the judge lists the profile attributes it dropped."""
    if Method.DEMOGRAPHIC_SUMMARY not in config.methods:
        return RunResult()
    summaries = BenchAnswer.objects.filter(
        run=bench_run, method=Method.DEMOGRAPHIC_SUMMARY, dropped_attributes__isnull=True, summary_error=""
    )
    stage = _RowStage(
        bench_run=bench_run,
        stage="summary",
        request=lambda row, **asked: summary_request(**asked, summary=row.intermediate),
        store=_summary_store,
        update_fields=["dropped_attributes", "summary_error"],
    )
    endpoint = ModelEndpoint.objects.get(name=config.summary_judge or config.critic)
    return work_run(endpoint=endpoint, items=_pending(summaries), handler=stage, job=job)


def bench_run_progress(*, bench_run: BenchRun, config: BenchConfig) -> tuple[int, int, int]:
    """(work units in the run, units already stored, of those the ones that failed for good): one per answer, one
    per verdict, one per summary analysis. An invalid verdict still to be asked again is not stored; one past its
    retries is stored and failed."""
    keys = bench_run.items.count() * len(config.models) * len(config.methods) * config.samples
    summaries = keys // max(1, len(config.methods)) if Method.DEMOGRAPHIC_SUMMARY in config.methods else 0
    answers = BenchAnswer.objects.filter(run=bench_run)
    given_up = answers.filter(verdict=Verdict.INVALID).exclude(_critic_retry()).count()
    done = (
        answers.count()
        + answers.exclude(verdict=Verdict.PENDING).exclude(_critic_retry()).count()
        + answers.filter(method=Method.DEMOGRAPHIC_SUMMARY)
        .filter(Q(dropped_attributes__isnull=False) | ~Q(summary_error=""))
        .count()
    )
    return 2 * keys + summaries, done, given_up


def bench_run_execute(*, bench_run: BenchRun, job: JobRun | None = None) -> dict[str, RunResult]:
    """Run (or resume) every stage of a personalization run; returns what each stage did this time."""
    config = bench_config_load(bench_run.config)
    if job is not None:
        total, done, given_up = bench_run_progress(bench_run=bench_run, config=config)
        job.set_total(total, already_done=done - given_up)
        if given_up:
            job.advance(done=0, failed=given_up)
    return {
        "answers": bench_answers_generate(bench_run=bench_run, config=config, job=job),
        "critic": bench_answers_critique(bench_run=bench_run, config=config, job=job),
        "summaries": bench_summaries_analyse(bench_run=bench_run, config=config, job=job),
    }
