"""The three generation stages of a dataset, each run as a job: y_l, the critique, the revision y_w.

Each stage runs through the one LLM work-item runner (``core.llm.runner``). Work items are keyed by (dataset,
persona, prompt, stage) and written as upserts (``stage_writes``): y_l as
``DatasetAnswer`` rows (one per prompt, or per pair with ``answer_per_pair``), the critique on its ``DatasetItem``
(status planned → critiqued), y_w as the item's ``PreferencePair`` (critiqued → done). A stage reads what is still
to do, so a re-run, a redelivered task or a restart after a killed worker does only what is left and duplicates
nothing. Items that failed a stage are retried when the stage runs again.

Requests are ordered persona by persona, so the persona prefix stays hot in the provider's cache; with
``use_batch`` on an Anthropic endpoint each chunk goes through the Message Batches API.

Every stage run takes an optional ``span``: an inclusive range of persona ids (of prompt ids for a y_l shared by
every persona) it is limited to. A big stage is spread over shards of disjoint spans that any free worker runs
(``benchmarks.datasets.shards``); the stage's job then only counts the whole (``stage_prepare``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.db.models import Count, Q

from benchmarks.datasets.models import DatasetItem, ItemStatus, PreferenceDataset
from benchmarks.datasets.planning import DatasetError
from benchmarks.datasets.stage_writes import AnswerHandler, AnswerKey, CritiqueHandler, RevisionHandler
from core.jobs import JobRun, job_start
from core.llm.runner import RunResult, WorkHandler, chunked, work_run
from core.models import Job
from personas.formats import persona_to_text
from personas.models import Persona


class Stage(models.TextChoices):
    ANSWER = "answer", "y_l: plain answers"
    CRITIQUE = "critique", "Critiques"
    REVISE = "revise", "Revisions y_w"
    VERIFY = "verify", "Verification"


STAGE_JOBS = {
    Stage.ANSWER: "benchmarks.dataset_answer",
    Stage.CRITIQUE: "benchmarks.dataset_critique",
    Stage.REVISE: "benchmarks.dataset_revise",
    Stage.VERIFY: "benchmarks.dataset_verify",
}


Span = tuple[int, int]  # inclusive range of the ids a stage run is limited to (persona ids; prompt ids for shared y_l)


def _chunk_size(dataset: PreferenceDataset) -> int:
    return 5000 if dataset.use_batch else 2000


def _require_generator(dataset: PreferenceDataset) -> None:
    if dataset.generator is None:
        raise DatasetError("Choose a generator endpoint for this dataset first.")
    if dataset.planned_at is None:
        raise DatasetError("Plan the dataset first.")


def _in_span(items: models.QuerySet[Any], field: str, span: Span | None) -> models.QuerySet[Any]:
    return items if span is None else items.filter(**{f"{field}__gte": span[0], f"{field}__lte": span[1]})


def _retry_failed(dataset: PreferenceDataset, stage: str, status: str, span: Span | None = None) -> None:
    """Items that failed ``stage`` earlier go back to ``status`` so this run tries them again."""
    key = "prompt_id" if stage == Stage.ANSWER and not dataset.answer_per_pair else "persona_id"
    _in_span(dataset.items.all(), key, span).filter(status=ItemStatus.FAILED, failure_stage=stage).update(
        status=status, failure_stage="", failure_reason="", failure_detail=""
    )


def _run(
    *, dataset: PreferenceDataset, items: Iterable[Any], handler: WorkHandler[Any], job: JobRun | None, retries: int = 0
) -> RunResult:
    assert dataset.generator is not None
    return work_run(
        endpoint=dataset.generator,
        items=items,
        handler=handler,
        job=job,
        chunk_size=_chunk_size(dataset),
        use_batch=dataset.use_batch,
        retries=retries,
    )


# ---- y_l --------------------------------------------------------------------------------------------------------


def _answer_keys(dataset: PreferenceDataset) -> list[AnswerKey]:
    """(prompt, persona or None) for every y_l the plan needs, persona by persona."""
    items = dataset.items.order_by("persona_id", "id").values_list("prompt_id", "persona_id")
    if dataset.answer_per_pair:
        return [(prompt, persona) for prompt, persona in items.iterator(chunk_size=5000)]
    return list(dict.fromkeys((prompt, None) for prompt, _ in items.iterator(chunk_size=5000)))


def answer_span_key(key: AnswerKey) -> int:
    """The id an answer's span ranges over: its persona for a y_l per pair, else its prompt."""
    prompt, persona = key
    return persona if persona is not None else prompt


def answers_todo(dataset: PreferenceDataset, *, span: Span | None = None) -> tuple[list[AnswerKey], int]:
    """The y_l still to write (in ``span``), and how many the plan needs there in all."""
    keys = _answer_keys(dataset)
    if span is not None:
        keys = [key for key in keys if span[0] <= answer_span_key(key) <= span[1]]
    existing = set(dataset.answers.values_list("prompt_id", "persona_id"))
    return [key for key in keys if key not in existing], len(keys)


def stage_answer_run(*, dataset: PreferenceDataset, job: JobRun | None = None, span: Span | None = None) -> RunResult:
    """Write y_l for every prompt of the plan (or every pair); failures fail the items that needed that answer."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.ANSWER, ItemStatus.PLANNED, span)
    todo, needed = answers_todo(dataset, span=span)
    if job is not None:
        job.set_total(needed, already_done=needed - len(todo))
    return _run(dataset=dataset, items=todo, handler=AnswerHandler(dataset=dataset, stage=Stage.ANSWER), job=job)


# ---- critique and revision --------------------------------------------------------------------------------------


def _stage_totals(
    dataset: PreferenceDataset, job: JobRun | None, past: Q, failed_before: Q, span: Span | None = None
) -> None:
    if job is None:
        return
    counts = _in_span(dataset.items.all(), "persona_id", span).aggregate(
        total=Count("pk"), past=Count("pk", filter=past), failed=Count("pk", filter=failed_before)
    )
    if span is not None:
        # A shard counts only what it has to do: its stage's job counts the whole, past and failed before included.
        job.set_total(counts["total"] - counts["past"] - counts["failed"], already_done=0)
        return
    job.set_total(counts["total"], already_done=counts["past"])
    if counts["failed"]:
        job.advance(done=0, failed=counts["failed"])


def _stage_items(dataset: PreferenceDataset, status: str, span: Span | None = None) -> Iterator[DatasetItem]:
    """The items waiting in ``status``, persona by persona, read a chunk at a time with what their requests need:
    ``y_l`` (an item whose y_l is missing waits: it is left out), the persona's text and its attribute values."""
    waiting = _in_span(dataset.items.all(), "persona_id", span).filter(status=status)
    ids = list(waiting.order_by("persona_id", "id").values_list("pk", flat=True))
    for chunk in chunked(ids, _chunk_size(dataset)):
        items = list(DatasetItem.objects.filter(pk__in=chunk).select_related("prompt").order_by("persona_id", "id"))
        answers = _answers_for(dataset, items)
        personas = _persona_texts({item.persona_id for item in items})
        for item in items:
            y_l = answers.get((item.prompt_id, item.persona_id if dataset.answer_per_pair else None))
            if y_l is None:
                continue
            item.y_l = y_l  # type: ignore[attr-defined]
            item.persona_text, item.persona_values = personas[item.persona_id]  # type: ignore[attr-defined]
            yield item


def _answers_for(dataset: PreferenceDataset, items: list[DatasetItem]) -> dict[tuple[int, int | None], str]:
    prompts = {item.prompt_id for item in items}
    rows = dataset.answers.filter(prompt_id__in=prompts)
    if dataset.answer_per_pair:
        rows = rows.filter(persona_id__in={item.persona_id for item in items})
    return {(prompt, persona): text for prompt, persona, text in rows.values_list("prompt_id", "persona_id", "text")}


def _persona_texts(persona_ids: set[int]) -> dict[int, tuple[str, list[str]]]:
    """persona id → (PERSONA's ``key: value`` text, the attribute values a revision must not name)."""
    rows = Persona.objects.filter(pk__in=persona_ids).values_list("pk", "attributes")
    return {pk: (persona_to_text(attrs), [str(v) for v in attrs.values() if v not in (None, "")]) for pk, attrs in rows}


# What each stage reads (items waiting in that status), counts as past it and as failed before it.
_CRITIQUE_PAST = Q(status__in=[ItemStatus.CRITIQUED, ItemStatus.DONE]) | Q(failure_stage__in=[Stage.REVISE])
_CRITIQUE_FAILED_BEFORE = Q(failure_stage=Stage.ANSWER)
_REVISE_PAST = Q(status=ItemStatus.DONE)
_REVISE_FAILED_BEFORE = Q(failure_stage__in=[Stage.ANSWER, Stage.CRITIQUE])
STAGE_WAITS_IN = {Stage.CRITIQUE: ItemStatus.PLANNED, Stage.REVISE: ItemStatus.CRITIQUED}


def stage_critique_run(*, dataset: PreferenceDataset, job: JobRun | None = None, span: Span | None = None) -> RunResult:
    """Critique y_l for each planned item's persona; an item waits (is skipped) while its y_l is missing."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.CRITIQUE, ItemStatus.PLANNED, span)
    _stage_totals(dataset, job, past=_CRITIQUE_PAST, failed_before=_CRITIQUE_FAILED_BEFORE, span=span)
    items = _stage_items(dataset, ItemStatus.PLANNED, span)
    return _run(dataset=dataset, items=items, handler=CritiqueHandler(dataset=dataset, stage=Stage.CRITIQUE), job=job)


def stage_revise_run(*, dataset: PreferenceDataset, job: JobRun | None = None, span: Span | None = None) -> RunResult:
    """Revise y_l after the critique; a revision breaking a rule is retried once, then the item fails with why."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.REVISE, ItemStatus.CRITIQUED, span)
    _stage_totals(dataset, job, past=_REVISE_PAST, failed_before=_REVISE_FAILED_BEFORE, span=span)
    handler = RevisionHandler(dataset=dataset, stage=Stage.REVISE)
    items = _stage_items(dataset, ItemStatus.CRITIQUED, span)
    return _run(dataset=dataset, items=items, handler=handler, job=job, retries=1)


def stage_prepare(*, dataset: PreferenceDataset, stage: str, job: JobRun) -> None:
    """What a stage run does before its calls, for the whole dataset: failed items back to waiting, and the job's
    total and what is already past. A stage spread over shards runs this in its own job, the shards do the rest."""
    _require_generator(dataset)
    if stage == Stage.ANSWER:
        _retry_failed(dataset, Stage.ANSWER, ItemStatus.PLANNED)
        todo, needed = answers_todo(dataset)
        job.set_total(needed, already_done=needed - len(todo))
    elif stage == Stage.CRITIQUE:
        _retry_failed(dataset, Stage.CRITIQUE, ItemStatus.PLANNED)
        _stage_totals(dataset, job, past=_CRITIQUE_PAST, failed_before=_CRITIQUE_FAILED_BEFORE)
    elif stage == Stage.REVISE:
        _retry_failed(dataset, Stage.REVISE, ItemStatus.CRITIQUED)
        _stage_totals(dataset, job, past=_REVISE_PAST, failed_before=_REVISE_FAILED_BEFORE)
    else:
        raise DatasetError(f"Stage {stage!r} has no generation to prepare.")


# ---- starting ---------------------------------------------------------------------------------------------------


def stage_start(*, dataset: PreferenceDataset, stage: str, started_by: Any = None) -> Job:
    """Queue one stage (or verification) of ``dataset`` as a job; the same stage still running is returned."""
    if stage not in STAGE_JOBS:
        raise DatasetError(f"Unknown stage {stage!r}.")
    if stage == Stage.VERIFY:
        if dataset.verifier is None:
            raise DatasetError("Choose a verifier judge for this dataset first.")
    else:
        _require_generator(dataset)
    return job_start(kind=STAGE_JOBS[stage], started_by=started_by, params={"dataset_id": dataset.pk, "stage": stage})
