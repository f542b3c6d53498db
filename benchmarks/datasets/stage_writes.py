"""What the dataset stages write, as handlers of the LLM work-item runner (``core.llm.runner``): y_l answers,
critiques, revisions (as the items' pairs) and the items that failed.

The runner buffers the rows and calls ``write`` in one transaction per flush (by count and time), advancing the job
by what it wrote. Every write is an upsert or a status change of a row still waiting, so writing a result twice is
harmless. Each handler gets its items with what their requests need already loaded (``stages`` reads them a chunk
at a time): ``item.y_l`` (the answer to critique or revise), ``item.persona_text`` and ``item.persona_values``.
"""

from __future__ import annotations

from typing import Any

from benchmarks.datasets.generation import (
    answer_request,
    critique_problem,
    critique_request,
    revision_check,
    revision_request,
    text_problem,
)
from benchmarks.datasets.models import DatasetAnswer, DatasetItem, ItemStatus, PreferenceDataset
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.llm.runner import Reply
from core.llm.types import Completion, LLMRequest

_FAILURE_FIELDS = ["status", "failure_stage", "failure_reason", "failure_detail"]

AnswerKey = tuple[int, int | None]  # (prompt, persona or None when one y_l serves every persona)


def items_save(items: list[DatasetItem], fields: list[str]) -> None:
    """Write each item's ``fields``, one UPDATE per row (the caller holds the transaction).

    Measured: ``bulk_update`` builds a CASE per field and row, ~1.8 ms of CPU per item in the thread that also
    collects the answers, which held the GIL long enough to cost 10 % of a stage's throughput at concurrency 32.
    """
    attnames = [DatasetItem._meta.get_field(field).attname for field in fields]
    for item in items:
        DatasetItem.objects.filter(pk=item.pk).update(**{a: getattr(item, a) for a in attnames})


def item_fail(item: DatasetItem, stage: str, reason: str, detail: str) -> None:
    """Mark ``item`` failed at ``stage`` (unsaved); a re-run of that stage tries it again."""
    item.status = ItemStatus.FAILED
    item.failure_stage = stage
    item.failure_reason = reason
    item.failure_detail = detail[:1000]


class AnswerHandler:
    """y_l as ``DatasetAnswer`` rows; an answer that failed fails the planned items that needed it."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str) -> None:
        self.dataset, self.stage = dataset, stage

    def requests(self, items: list[AnswerKey], *, retry: list[str] | None = None) -> list[LLMRequest]:
        texts = dict(Prompt.objects.filter(pk__in={prompt for prompt, _ in items}).values_list("pk", "text"))
        return [
            answer_request(
                prompt_text=texts[prompt_id],
                key=f"ds{self.dataset.pk}-yl-{prompt_id}" + (f"-{persona_id}" if persona_id else ""),
            )
            for prompt_id, persona_id in items
        ]

    def reply(self, item: AnswerKey, completion: Completion, *, last: bool) -> Reply:
        prompt_id, persona_id = item
        if problem := text_problem(completion):
            return Reply(("fail", (prompt_id, persona_id, *problem)), valid=False)
        text = completion.text.strip()
        return Reply(
            ("keep", DatasetAnswer(dataset=self.dataset, prompt_id=prompt_id, persona_id=persona_id, text=text))
        )

    def write(self, rows: list[tuple[str, Any]]) -> None:
        DatasetAnswer.objects.bulk_create([row for kind, row in rows if kind == "keep"], ignore_conflicts=True)
        for prompt_id, persona_id, reason, detail in (row for kind, row in rows if kind == "fail"):
            items = self.dataset.items.filter(prompt_id=prompt_id, status=ItemStatus.PLANNED)
            if persona_id is not None:
                items = items.filter(persona_id=persona_id)
            items.update(
                status=ItemStatus.FAILED, failure_stage=self.stage, failure_reason=reason, failure_detail=detail
            )


class _ItemHandler:
    """A stage whose results land on the items themselves; an item whose result failed is saved with why."""

    kept_fields: list[str] = []

    def __init__(self, *, dataset: PreferenceDataset, stage: str) -> None:
        self.dataset, self.stage = dataset, stage

    def fail(self, item: DatasetItem, problem: tuple[str, str]) -> Reply:
        item_fail(item, self.stage, *problem)
        return Reply(item, valid=False)

    def write(self, rows: list[DatasetItem]) -> None:
        failed = [item for item in rows if item.status == ItemStatus.FAILED]
        self.write_kept([item for item in rows if item.status != ItemStatus.FAILED])
        items_save(failed, _FAILURE_FIELDS)

    def write_kept(self, items: list[DatasetItem]) -> None:
        items_save(items, self.kept_fields)


class CritiqueHandler(_ItemHandler):
    """Critiques on their items (planned → critiqued); an empty, refused or echoed critique fails the item."""

    kept_fields = ["status", "critique"]

    def requests(self, items: list[DatasetItem], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [
            critique_request(
                persona_text=item.persona_text,  # type: ignore[attr-defined]
                prompt_text=item.prompt.text,
                answer=item.y_l,  # type: ignore[attr-defined]
                key=f"ds{self.dataset.pk}-critique-{item.persona_id}-{item.prompt_id}",
            )
            for item in items
        ]

    def reply(self, item: DatasetItem, completion: Completion, *, last: bool) -> Reply:
        if problem := critique_problem(completion):
            return self.fail(item, problem)
        item.critique = completion.text.strip()
        item.status = ItemStatus.CRITIQUED
        return Reply(item)


class RevisionHandler(_ItemHandler):
    """Kept revisions as the items' pairs (critiqued → done); a revision breaking a rule is asked once more, told
    why (``revision_check``), then the item fails with the reason."""

    def requests(self, items: list[DatasetItem], *, retry: list[str] | None = None) -> list[LLMRequest]:
        reasons = retry or [""] * len(items)
        return [
            revision_request(
                persona_text=item.persona_text,  # type: ignore[attr-defined]
                prompt_text=item.prompt.text,
                answer=item.y_l,  # type: ignore[attr-defined]
                critique=item.critique,
                key=f"ds{self.dataset.pk}-revise-{item.persona_id}-{item.prompt_id}",
                retry_reason=reason,
                sample=1 if reason else 0,
            )
            for item, reason in zip(items, reasons, strict=True)
        ]

    def reply(self, item: DatasetItem, completion: Completion, *, last: bool) -> Reply:
        check = revision_check(
            completion=completion,
            original=item.y_l,  # type: ignore[attr-defined]
            attribute_values=item.persona_values,  # type: ignore[attr-defined]
            tolerance=self.dataset.length_tolerance,
            last=last,
        )
        if check.retry:
            return Reply(retry=check.retry)
        if check.problem:
            return self.fail(item, check.problem)
        item.revision = check.text  # type: ignore[attr-defined]
        return Reply(item)

    def write_kept(self, items: list[DatasetItem]) -> None:
        if not items:
            return
        pairs = [
            PreferencePair(
                dataset=self.dataset,
                persona_id=item.persona_id,
                prompt_id=item.prompt_id,
                rejected=item.y_l,  # type: ignore[attr-defined]
                critique=item.critique,
                chosen=item.revision,  # type: ignore[attr-defined]
                split=item.split,
            )
            for item in items
        ]
        PreferencePair.objects.bulk_create(pairs, ignore_conflicts=True)
        rows = PreferencePair.objects.filter(
            dataset=self.dataset,
            persona_id__in={item.persona_id for item in items},
            prompt_id__in={item.prompt_id for item in items},
        ).values_list("persona_id", "prompt_id", "pk")
        linked = {(persona, prompt): pk for persona, prompt, pk in rows}
        for item in items:
            item.pair_id = linked[(item.persona_id, item.prompt_id)]
            item.status = ItemStatus.DONE
        items_save(items, ["status", "pair"])
