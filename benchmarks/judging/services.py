"""Running a judge over a persona x pair set: both A/B orders, ``judge.samples`` replies each, stored as upserts.

Every work item has a deterministic key (judge, persona, pair, order, sample); a run first reads the keys already
stored and asks only for the rest, so a re-run (or a redelivered task) adds nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.utils.timezone import now

from benchmarks.judging.models import Choice, Judge, Judgment, Order
from benchmarks.judging.prompts import choice_from_letter, judgment_request
from benchmarks.pairs.models import PreferencePair
from core.jobs import JobRun, job_start
from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint, Provider
from core.llm.runner import Reply, RunResult, Writer, chunked, work_run
from core.llm.types import Completion, LLMRequest
from core.models import Job
from personas.models import Persona

JUDGE_RUN_JOB = "benchmarks.judge_run"
ORDERS = tuple(Order.values)

Item = tuple[int, int]  # (persona id, pair id)
Key = tuple[int, int, str, int]  # (persona id, pair id, order, sample)


def judge_upsert(*, name: str, endpoint: Any, **fields: Any) -> Judge:
    """Create the judge ``name`` on ``endpoint`` or update the given fields of the existing one.

    Checked by the model's own rules, as the admin's form checks them (a slug name, at least one sample, …):
    ``ValidationError`` otherwise, and nothing is stored.
    """
    judge = Judge.objects.filter(name=name).first() or Judge(name=name)
    judge.endpoint = endpoint
    for field, value in fields.items():
        setattr(judge, field, value)
    judge.full_clean(validate_unique=False)
    judge.save()
    return judge


BASELINE_JUDGES = {
    "baseline-always-a": "always_a",
    "baseline-random": "random",
    "baseline-shorter-answer": "shorter_answer",
    "baseline-persona-overlap": "persona_overlap",
}


def baseline_judges_ensure() -> list[Judge]:
    """The four offline baselines as judges (on core's ``offline-*`` endpoints, created if missing)."""

    judges = []
    for name, model in BASELINE_JUDGES.items():
        endpoint_name = f"offline-{model.replace('_', '-')}"
        endpoint = ModelEndpoint.objects.filter(name=endpoint_name).first()
        if endpoint is None:
            endpoint, _ = endpoint_upsert(name=endpoint_name, provider=Provider.OFFLINE, model=model, concurrency=1)
        judge = Judge.objects.filter(name=name).first() or judge_upsert(name=name, endpoint=endpoint)
        judges.append(judge)
    return judges


def judgment_keys(*, judge: Judge, items: Iterable[Item]) -> list[Key]:
    """Every key a run over ``items`` stores: both orders, ``judge.samples`` samples each, in a stable order."""
    return [
        (persona_id, pair_id, order, sample)
        for persona_id, pair_id in dict.fromkeys(tuple(item) for item in items)
        for order in ORDERS
        for sample in range(judge.samples)
    ]


def judgment_stored(*, judge: Judge, items: Sequence[Item]) -> dict[Key, tuple[str, int]]:
    """The keys stored for ``items``, each with its choice and the attempts it took."""
    personas = {persona_id for persona_id, _ in items}
    pairs = {pair_id for _, pair_id in items}
    wanted = {tuple(item) for item in items}
    rows = Judgment.objects.filter(judge=judge, persona_id__in=personas, pair_id__in=pairs).values_list(
        "persona_id", "pair_id", "order", "sample", "choice", "attempts"
    )
    return {(p, q, o, s): (choice, attempts) for p, q, o, s, choice, attempts in rows if (p, q) in wanted}


def judgment_asked_again(*, choice: str, attempts: int) -> bool:
    """Whether a stored reply is asked again by a re-run: an invalid one, until ``LLM_INVALID_RETRIES`` retries."""
    return choice == Choice.INVALID and attempts <= settings.LLM_INVALID_RETRIES


def _judgment_from(*, judge: Judge, key: Key, completion: Completion) -> Judgment:
    persona_id, pair_id, order, sample = key
    choice = choice_from_letter(completion.choice, order) if completion.valid else Choice.INVALID
    confidence = completion.confidence if completion.valid and completion.confidence is not None else None
    return Judgment(
        judge=judge,
        persona_id=persona_id,
        pair_id=pair_id,
        order=order,
        sample=sample,
        choice=choice,
        confidence=max(0, min(100, confidence)) if confidence is not None else None,
        reasoning=completion.reasoning[:20_000],
        raw=(completion.raw or completion.text)[:50_000],
        error=completion.error[:2000] if choice == Choice.INVALID else "",
        stop_reason=completion.stop_reason[:32],
        model=completion.model[:200],
        input_tokens=completion.usage.input_tokens + completion.usage.cache_read_tokens,
        output_tokens=completion.usage.output_tokens,
        latency_s=completion.latency_s,
    )


# A key to ask, with the attempts of the invalid reply stored under it (None: nothing stored yet).
Todo = tuple[Key, int | None]


def _judgments_todo(*, judge: Judge, items: Iterable[Item], writer: Writer[Todo], result: RunResult) -> Iterator[Todo]:
    """The keys of ``items`` still to ask, read a chunk of items at a time (memory flat in the number of items).

    Keys stored with a readable reply are skipped (done); an invalid reply is asked again until its cap, then
    skipped as failed.
    """
    for chunk in chunked(items, _ITEMS_PER_LOOKUP):
        stored = judgment_stored(judge=judge, items=chunk)
        done = failed = 0
        for key in judgment_keys(judge=judge, items=chunk):
            choice, attempts = stored.get(key, ("", 0))
            if not choice:
                yield key, None
            elif judgment_asked_again(choice=choice, attempts=attempts):
                yield key, attempts
            elif choice == Choice.INVALID:
                failed += 1
            else:
                done += 1
        result.skipped += done + failed
        writer.settle(done=done, failed=failed)


_ITEMS_PER_LOOKUP = 250


class JudgmentHandler:
    """Judgments as runner work: a key in, a ``Judgment`` out; a retried invalid reply replaces the stored one."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge

    def requests(self, items: list[Todo], *, retry: list[str] | None = None) -> list[LLMRequest]:
        personas = Persona.objects.in_bulk({key[0] for key, _ in items})
        pairs = PreferencePair.objects.select_related("prompt").in_bulk({key[1] for key, _ in items})
        return [
            judgment_request(judge=self.judge, persona=personas[p], pair=pairs[q], order=order, sample=sample)
            for (p, q, order, sample), _ in items
        ]

    def reply(self, item: Todo, completion: Completion, *, last: bool) -> Reply:
        key, attempts = item
        judgment = _judgment_from(judge=self.judge, key=key, completion=completion)
        if attempts is not None:
            judgment.attempts = attempts + 1
        return Reply(row=(judgment, attempts is not None), valid=judgment.choice != Choice.INVALID)

    def write(self, rows: list[tuple[Judgment, bool]]) -> None:
        Judgment.objects.bulk_create([judgment for judgment, replaces in rows if not replaces], ignore_conflicts=True)
        # A retried invalid reply replaces the stored one (only an invalid row is ever overwritten).
        for judgment, replaces in rows:
            if replaces:
                Judgment.objects.filter(
                    judge=self.judge,
                    persona_id=judgment.persona_id,
                    pair_id=judgment.pair_id,
                    order=judgment.order,
                    sample=judgment.sample,
                    choice=Choice.INVALID,
                ).update(**{field: getattr(judgment, field) for field in _REPLACED_FIELDS}, updated_at=now())


def judgments_run(
    *, judge: Judge, items: Iterable[Item], job: JobRun | None = None, count: int | None = None
) -> RunResult:
    """Ask ``judge`` about every (persona, pair) item in both orders and store each reply.

    ``items`` may be an iterator (read a chunk at a time: memory stays flat in the number of items); then pass
    ``count``, the number of items, for the job's total, and make the items distinct. Replies that cannot be read
    as a choice are stored as ``invalid`` (with the raw reply and the reason) and counted as failed in the job; a
    re-run asks them again, each at most ``LLM_INVALID_RETRIES`` more times (then it stays invalid and failed).
    Calls that fail transiently after every retry store nothing, so a re-run asks again. Keys already stored with
    a readable reply are skipped.
    """
    if isinstance(items, Sequence):
        items = list(dict.fromkeys(tuple(item) for item in items))
        count = len(items)
    handler = JudgmentHandler(judge)
    writer: Writer[Todo] = Writer(handler=handler, job=job)
    if job is not None and count is not None:
        job.set_total(2 * judge.samples * count, already_done=0)
    skipped = RunResult()
    todo = _judgments_todo(judge=judge, items=items, writer=writer, result=skipped)
    return work_run(endpoint=judge.endpoint, items=todo, handler=handler, job=job, writer=writer) + skipped


# What a retried reply overwrites on the stored invalid row (the key and ``created_at`` stay).
_REPLACED_FIELDS = (
    "choice",
    "confidence",
    "reasoning",
    "raw",
    "error",
    "stop_reason",
    "model",
    "input_tokens",
    "output_tokens",
    "latency_s",
    "attempts",
)


def judge_run_start(*, judge: Judge, items: Sequence[Item], started_by: Any = None, label: str = "") -> Job:
    """Queue a job running ``judge`` over ``items`` (deduplicated: the same run still queued is returned)."""
    params = {"judge_id": judge.pk, "items": [list(item) for item in dict.fromkeys(tuple(i) for i in items)]}
    if label:
        params["label"] = label
    return job_start(kind=JUDGE_RUN_JOB, started_by=started_by, params=params, total=2 * judge.samples * len(items))
