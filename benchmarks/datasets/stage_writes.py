"""What the dataset stages write: y_l answers, critiques, revisions (as the items' pairs) and the items that failed.

Results are buffered and written in one transaction per flush, at least every ``FLUSH_EVERY`` results or
``FLUSH_SECONDS``, so progress shows live and a killed worker loses little; each flush advances the job by what it
wrote. Every write is an upsert or a status change of a row still waiting, so writing a result twice is harmless.
"""

from __future__ import annotations

import time

from django.db import transaction

from benchmarks.datasets.models import DatasetAnswer, DatasetItem, ItemStatus, PreferenceDataset
from benchmarks.pairs.models import PreferencePair
from core.jobs import JobRun

FLUSH_EVERY = 200
FLUSH_SECONDS = 2.0

_FAILURE_FIELDS = ["status", "failure_stage", "failure_reason", "failure_detail"]


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


class _StageWriter:
    """The buffering and progress every stage's writer shares; a subclass says what ``_write`` stores."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str, run: JobRun | None) -> None:
        self.dataset, self.stage, self.run = dataset, stage, run
        self.kept = 0  # results written over the writer's life, for the stage's result
        self.failed = 0
        self._done = 0  # results buffered since the last flush
        self._failed = 0
        self._last = time.monotonic()

    def _added(self, *, failed: bool) -> None:
        if failed:
            self._failed += 1
        else:
            self._done += 1
        if self._done + self._failed >= FLUSH_EVERY or time.monotonic() - self._last >= FLUSH_SECONDS:
            self.flush()

    def _write(self) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        self._last = time.monotonic()
        done, failed = self._done, self._failed
        if not (done or failed):
            return
        with transaction.atomic():
            self._write()
        self._done = self._failed = 0
        self.kept += done
        self.failed += failed
        if self.run is not None:
            self.run.advance(done=done, failed=failed)


class AnswerWriter(_StageWriter):
    """y_l as ``DatasetAnswer`` rows; an answer that failed fails the planned items that needed it."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str, run: JobRun | None) -> None:
        super().__init__(dataset=dataset, stage=stage, run=run)
        self.answers: list[DatasetAnswer] = []
        self.failures: list[tuple[int, int | None, str, str]] = []

    def keep(self, *, prompt_id: int, persona_id: int | None, text: str) -> None:
        self.answers.append(DatasetAnswer(dataset=self.dataset, prompt_id=prompt_id, persona_id=persona_id, text=text))
        self._added(failed=False)

    def fail(self, *, prompt_id: int, persona_id: int | None, reason: str, detail: str) -> None:
        self.failures.append((prompt_id, persona_id, reason, detail))
        self._added(failed=True)

    def _write(self) -> None:
        DatasetAnswer.objects.bulk_create(self.answers, ignore_conflicts=True)
        for prompt_id, persona_id, reason, detail in self.failures:
            items = self.dataset.items.filter(prompt_id=prompt_id, status=ItemStatus.PLANNED)
            if persona_id is not None:
                items = items.filter(persona_id=persona_id)
            items.update(
                status=ItemStatus.FAILED, failure_stage=self.stage, failure_reason=reason, failure_detail=detail
            )
        self.answers.clear()
        self.failures.clear()


class _ItemWriter(_StageWriter):
    """A writer of results on the items themselves; an item whose result failed is saved with why."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str, run: JobRun | None) -> None:
        super().__init__(dataset=dataset, stage=stage, run=run)
        self.failed_items: list[DatasetItem] = []

    def fail(self, item: DatasetItem, reason: str, detail: str) -> None:
        item_fail(item, self.stage, reason, detail)
        self.failed_items.append(item)
        self._added(failed=True)

    def _write_kept(self) -> None:
        raise NotImplementedError

    def _write(self) -> None:
        self._write_kept()
        if self.failed_items:
            items_save(self.failed_items, _FAILURE_FIELDS)
            self.failed_items.clear()


class CritiqueWriter(_ItemWriter):
    """Critiques on their items (planned → critiqued), and the items whose critique failed."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str, run: JobRun | None) -> None:
        super().__init__(dataset=dataset, stage=stage, run=run)
        self.items: list[DatasetItem] = []

    def keep(self, item: DatasetItem, critique: str) -> None:
        item.critique = critique
        item.status = ItemStatus.CRITIQUED
        self.items.append(item)
        self._added(failed=False)

    def _write_kept(self) -> None:
        if self.items:
            items_save(self.items, ["status", "critique"])
            self.items.clear()


class RevisionWriter(_ItemWriter):
    """Kept revisions as the items' pairs (critiqued → done), and the items whose revision failed."""

    def __init__(self, *, dataset: PreferenceDataset, stage: str, run: JobRun | None) -> None:
        super().__init__(dataset=dataset, stage=stage, run=run)
        self.pairs: list[tuple[DatasetItem, PreferencePair]] = []

    def keep(self, item: DatasetItem, text: str, original: str) -> None:
        pair = PreferencePair(
            dataset=self.dataset,
            persona_id=item.persona_id,
            prompt_id=item.prompt_id,
            rejected=original,
            critique=item.critique,
            chosen=text,
            split=item.split,
        )
        self.pairs.append((item, pair))
        self._added(failed=False)

    def _write_kept(self) -> None:
        if not self.pairs:
            return
        PreferencePair.objects.bulk_create([pair for _, pair in self.pairs], ignore_conflicts=True)
        rows = PreferencePair.objects.filter(
            dataset=self.dataset,
            persona_id__in={item.persona_id for item, _ in self.pairs},
            prompt_id__in={item.prompt_id for item, _ in self.pairs},
        ).values_list("persona_id", "prompt_id", "pk")
        linked = {(persona, prompt): pk for persona, prompt, pk in rows}
        for item, _ in self.pairs:
            item.pair_id = linked[(item.persona_id, item.prompt_id)]
            item.status = ItemStatus.DONE
        items_save([item for item, _ in self.pairs], ["status", "pair"])
        self.pairs.clear()
