"""The three generation stages of a dataset, each run as a job: y_l, the critique, the revision y_w.

Work items are keyed by (dataset, persona, prompt, stage) and written as upserts (``stage_writes``): y_l as
``DatasetAnswer`` rows (one per prompt, or per pair with ``answer_per_pair``), the critique on its ``DatasetItem``
(status planned → critiqued), y_w as the item's ``PreferencePair`` (critiqued → done). A stage reads what is still
to do, so a re-run, a redelivered task or a restart after a killed worker does only what is left and duplicates
nothing. Items that failed a stage are retried when the stage runs again.

Requests are ordered persona by persona, so the persona prefix stays hot in the provider's cache; with
``use_batch`` on an Anthropic endpoint each chunk goes through the Message Batches API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Q

from benchmarks.datasets.generation import (
    answer_request,
    critique_request,
    revision_problem,
    revision_request,
    revision_retry_reason,
    text_problem,
)
from benchmarks.datasets.models import DatasetItem, ItemStatus, PreferenceDataset
from benchmarks.datasets.planning import DatasetError
from benchmarks.datasets.stage_writes import AnswerWriter, CritiqueWriter, RevisionWriter
from benchmarks.prompts.models import Prompt
from core.jobs import JobRun, job_start
from core.llm.service import llm_complete_many
from core.llm.types import Completion, LLMRequest
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


@dataclass
class StageResult:
    requested: int = 0
    done: int = 0
    failed: int = 0


def _chunk_size(dataset: PreferenceDataset) -> int:
    return 5000 if dataset.use_batch else 2000


def _run_requests(
    *,
    dataset: PreferenceDataset,
    requests: list[LLMRequest],
    run: JobRun | None,
    on_result: Callable[[int, Completion], None],
) -> None:
    if requests:
        llm_complete_many(
            endpoint=dataset.generator, requests=requests, run=run, use_batch=dataset.use_batch, on_result=on_result
        )


def _require_generator(dataset: PreferenceDataset) -> None:
    if dataset.generator is None:
        raise DatasetError("Choose a generator endpoint for this dataset first.")
    if dataset.planned_at is None:
        raise DatasetError("Plan the dataset first.")


def _retry_failed(dataset: PreferenceDataset, stage: str, status: str) -> None:
    """Items that failed ``stage`` earlier go back to ``status`` so this run tries them again."""
    dataset.items.filter(status=ItemStatus.FAILED, failure_stage=stage).update(
        status=status, failure_stage="", failure_reason="", failure_detail=""
    )


def _persona_texts(persona_ids: set[int]) -> dict[int, tuple[str, list[str]]]:
    """persona id → (PERSONA's ``key: value`` text, the attribute values a revision must not name)."""
    rows = Persona.objects.filter(pk__in=persona_ids).values_list("pk", "attributes")
    return {pk: (persona_to_text(attrs), [str(v) for v in attrs.values() if v not in (None, "")]) for pk, attrs in rows}


def _written(result: StageResult, writer: AnswerWriter | CritiqueWriter | RevisionWriter) -> None:
    writer.flush()
    result.done += writer.kept
    result.failed += writer.failed


# ---- y_l --------------------------------------------------------------------------------------------------------


def _answer_keys(dataset: PreferenceDataset) -> list[tuple[int, int | None]]:
    """(prompt, persona or None) for every y_l the plan needs, persona by persona."""
    items = dataset.items.order_by("persona_id", "id").values_list("prompt_id", "persona_id")
    if dataset.answer_per_pair:
        return [(prompt, persona) for prompt, persona in items]
    return list(dict.fromkeys((prompt, None) for prompt, _ in items))


def stage_answer_run(*, dataset: PreferenceDataset, run: JobRun | None = None) -> StageResult:
    """Write y_l for every prompt of the plan (or every pair); failures fail the items that needed that answer."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.ANSWER, ItemStatus.PLANNED)
    keys = _answer_keys(dataset)
    existing = set(dataset.answers.values_list("prompt_id", "persona_id"))
    todo = [key for key in keys if key not in existing]
    if run is not None:
        run.set_total(len(keys), already_done=len(keys) - len(todo))
    texts = dict(Prompt.objects.filter(pk__in={prompt for prompt, _ in todo}).values_list("pk", "text"))
    result = StageResult(requested=len(todo))
    size = _chunk_size(dataset)
    for start in range(0, len(todo), size):
        _answer_chunk(dataset=dataset, chunk=todo[start : start + size], texts=texts, run=run, result=result)
    return result


def _answer_chunk(
    *,
    dataset: PreferenceDataset,
    chunk: list[tuple[int, int | None]],
    texts: dict[int, str],
    run: JobRun | None,
    result: StageResult,
) -> None:
    writer = AnswerWriter(dataset=dataset, stage=Stage.ANSWER, run=run)

    def on_result(index: int, completion: Completion) -> None:
        prompt_id, persona_id = chunk[index]
        if problem := text_problem(completion):
            writer.fail(prompt_id=prompt_id, persona_id=persona_id, reason=problem[0], detail=problem[1])
        else:
            writer.keep(prompt_id=prompt_id, persona_id=persona_id, text=completion.text.strip())

    requests = [
        answer_request(
            prompt_text=texts[prompt_id],
            key=f"ds{dataset.pk}-yl-{prompt_id}" + (f"-{persona_id}" if persona_id else ""),
        )
        for prompt_id, persona_id in chunk
    ]
    _run_requests(dataset=dataset, requests=requests, run=run, on_result=on_result)
    _written(result, writer)


def _answers_for(dataset: PreferenceDataset, items: list[DatasetItem]) -> dict[tuple[int, int | None], str]:
    prompts = {item.prompt_id for item in items}
    rows = dataset.answers.filter(prompt_id__in=prompts)
    if dataset.answer_per_pair:
        rows = rows.filter(persona_id__in={item.persona_id for item in items})
    return {(prompt, persona): text for prompt, persona, text in rows.values_list("prompt_id", "persona_id", "text")}


def _answer_of(dataset: PreferenceDataset, answers: dict, item: DatasetItem) -> str | None:
    return answers.get((item.prompt_id, item.persona_id if dataset.answer_per_pair else None))


# ---- critique and revision --------------------------------------------------------------------------------------


def _stage_items(dataset: PreferenceDataset, status: str) -> list[int]:
    return list(dataset.items.filter(status=status).order_by("persona_id", "id").values_list("pk", flat=True))


def _stage_totals(dataset: PreferenceDataset, run: JobRun | None, past: Q, failed_before: Q) -> None:
    if run is None:
        return
    counts = dataset.items.aggregate(
        total=Count("pk"), past=Count("pk", filter=past), failed=Count("pk", filter=failed_before)
    )
    run.set_total(counts["total"], already_done=counts["past"])
    if counts["failed"]:
        run.advance(failed=counts["failed"])


def _chunk_items(ids: list[int]) -> list[DatasetItem]:
    return list(DatasetItem.objects.filter(pk__in=ids).select_related("prompt").order_by("persona_id", "id"))


def _run_chunks(
    *, dataset: PreferenceDataset, status: str, run: JobRun | None, chunk: Callable[..., None]
) -> StageResult:
    """Hand the items waiting in `status` to `chunk`, a chunk at a time, summing into one result."""
    result = StageResult()
    ids = _stage_items(dataset, status)
    size = _chunk_size(dataset)
    for start in range(0, len(ids), size):
        chunk(dataset=dataset, items=_chunk_items(ids[start : start + size]), run=run, result=result)
    return result


def stage_critique_run(*, dataset: PreferenceDataset, run: JobRun | None = None) -> StageResult:
    """Critique y_l for each planned item's persona; an item waits (is skipped) while its y_l is missing."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.CRITIQUE, ItemStatus.PLANNED)
    _stage_totals(
        dataset,
        run,
        past=Q(status__in=[ItemStatus.CRITIQUED, ItemStatus.DONE]) | Q(failure_stage__in=[Stage.REVISE]),
        failed_before=Q(failure_stage=Stage.ANSWER),
    )
    return _run_chunks(dataset=dataset, status=ItemStatus.PLANNED, run=run, chunk=_critique_chunk)


def _critique_chunk(
    *, dataset: PreferenceDataset, items: list[DatasetItem], run: JobRun | None, result: StageResult
) -> None:
    answers = _answers_for(dataset, items)
    items = [item for item in items if _answer_of(dataset, answers, item) is not None]
    personas = _persona_texts({item.persona_id for item in items})
    requests = [
        critique_request(
            persona_text=personas[item.persona_id][0],
            prompt_text=item.prompt.text,
            answer=_answer_of(dataset, answers, item) or "",
            key=f"ds{dataset.pk}-critique-{item.persona_id}-{item.prompt_id}",
        )
        for item in items
    ]
    result.requested += len(requests)
    writer = CritiqueWriter(dataset=dataset, stage=Stage.CRITIQUE, run=run)

    def on_result(index: int, completion: Completion) -> None:
        if problem := text_problem(completion):
            writer.fail(items[index], *problem)
        else:
            writer.keep(items[index], completion.text.strip())

    _run_requests(dataset=dataset, requests=requests, run=run, on_result=on_result)
    _written(result, writer)


def stage_revise_run(*, dataset: PreferenceDataset, run: JobRun | None = None) -> StageResult:
    """Revise y_l after the critique; a revision breaking a rule is retried once, then the item fails with why."""
    _require_generator(dataset)
    _retry_failed(dataset, Stage.REVISE, ItemStatus.CRITIQUED)
    _stage_totals(
        dataset,
        run,
        past=Q(status=ItemStatus.DONE),
        failed_before=Q(failure_stage__in=[Stage.ANSWER, Stage.CRITIQUE]),
    )
    return _run_chunks(dataset=dataset, status=ItemStatus.CRITIQUED, run=run, chunk=_revise_chunk)


def _revise_chunk(
    *, dataset: PreferenceDataset, items: list[DatasetItem], run: JobRun | None, result: StageResult
) -> None:
    answers = _answers_for(dataset, items)
    personas = _persona_texts({item.persona_id for item in items})
    result.requested += len(items)
    retry: list[tuple[DatasetItem, str]] = []
    writer = RevisionWriter(dataset=dataset, stage=Stage.REVISE, run=run)

    def request_for(item: DatasetItem, retry_reason: str = "") -> LLMRequest:
        return revision_request(
            persona_text=personas[item.persona_id][0],
            prompt_text=item.prompt.text,
            answer=_answer_of(dataset, answers, item) or "",
            critique=item.critique,
            key=f"ds{dataset.pk}-revise-{item.persona_id}-{item.prompt_id}",
            retry_reason=retry_reason,
            sample=1 if retry_reason else 0,
        )

    def check(item: DatasetItem, completion: Completion) -> tuple[str, str] | None:
        return revision_problem(
            completion=completion,
            original=_answer_of(dataset, answers, item) or "",
            attribute_values=personas[item.persona_id][1],
            tolerance=dataset.length_tolerance,
        )

    def first(index: int, completion: Completion) -> None:
        item = items[index]
        if problem := check(item, completion):
            retry.append((item, revision_retry_reason(problem)))
        else:
            writer.keep(item, completion.text.strip(), _answer_of(dataset, answers, item) or "")

    def second(index: int, completion: Completion) -> None:
        item = retry[index][0]
        if problem := check(item, completion):
            writer.fail(item, *problem)
        else:
            writer.keep(item, completion.text.strip(), _answer_of(dataset, answers, item) or "")

    _run_requests(dataset=dataset, requests=[request_for(item) for item in items], run=run, on_result=first)
    _run_requests(
        dataset=dataset, requests=[request_for(item, reason) for item, reason in retry], run=run, on_result=second
    )
    _written(result, writer)


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
