"""Usage accounting: one ``LLMCall`` row per answered request and the running sum on the job that caused it."""

from __future__ import annotations

import time
from decimal import Decimal

from core.llm.models import LLMCall, ModelEndpoint
from core.llm.types import Completion, JobProgress


class UsageRecorder:
    """Collects calls in memory and writes them in bulk (every ``flush_every`` calls or seconds, and at the end).

    Lives in the caller's thread: worker threads only talk HTTP, so every database write happens where the
    caller's connection and transaction are. A job's ``input_tokens`` include cache reads and writes.
    """

    def __init__(
        self, *, endpoint: ModelEndpoint, run: JobProgress | None, flush_every: int = 100, flush_seconds: float = 2.0
    ) -> None:
        self.endpoint = endpoint
        self.run = run
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._rows: list[LLMCall] = []
        self._last_flush = time.monotonic()

    def add(self, completion: Completion, *, request_key: str | None, batch: bool = False) -> None:
        usage = completion.usage
        self._rows.append(
            LLMCall(
                endpoint=self.endpoint,
                job_id=self.run.job.pk if self.run else None,
                request_key=(request_key or "")[:255],
                model=completion.model[:200],
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cost_usd=completion.cost_usd,
                latency_s=completion.latency_s,
                valid=completion.valid,
                stop_reason=completion.stop_reason[:32],
                from_cache=completion.from_cache,
                batch=batch,
                error=completion.error[:2000],
            )
        )
        if len(self._rows) >= self.flush_every or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write what was collected; raises ``JobCancelled`` when the job has stopped (the caller should stop too)."""
        rows, self._rows = self._rows, []
        self._last_flush = time.monotonic()
        if not rows:
            return
        LLMCall.objects.bulk_create(rows, batch_size=500)
        if self.run is not None:
            billed = [row for row in rows if not row.from_cache]
            self.run.add_usage(
                input_tokens=sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens for r in billed),
                output_tokens=sum(r.output_tokens for r in billed),
                cost_usd=sum((r.cost_usd for r in billed), Decimal(0)),
            )
