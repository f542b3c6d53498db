"""``llm_complete`` and ``llm_complete_many``: cache, limits, retries, batches and accounting around a provider."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from core.llm.accounting import UsageRecorder
from core.llm.cache import cache_key, cache_lookup, cache_store
from core.llm.faults import with_retries
from core.llm.limiter import limiter
from core.llm.models import ModelEndpoint, Provider
from core.llm.outage import OutageNotice, gave_up
from core.llm.providers import LLMProvider, provider_for
from core.llm.types import Completion, JobProgress, LLMError, LLMRequest

logger = logging.getLogger(__name__)

# How often the caller's thread looks whether calls wait out an outage, to say so on the job's page.
NOTE_POLL_SECONDS = 1.0


def _call(
    endpoint: ModelEndpoint, provider: LLMProvider, request: LLMRequest, notice: OutageNotice | None = None
) -> Completion:
    """One request with retries for the endpoint's retry budget; each attempt holds a concurrency slot and a
    rate-limit turn (released in back-off). While it waits out transient errors, ``notice`` shows it on the job."""
    if endpoint.provider == Provider.OFFLINE:
        return provider.complete(request)
    limits = limiter()

    def attempt() -> Completion:
        try:
            with limits.slot(endpoint):
                return provider.complete(request)
        except LLMError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):  # the shared limiter is unreachable: wait and retry
                raise LLMError(f"rate limiter unavailable: {exc}"[:500], transient=True) from exc
            # An SDK or parsing surprise must not take a whole run down; it is logged with its traceback.
            logger.exception("%s: unexpected error from the provider", endpoint.name)
            raise LLMError(f"{type(exc).__name__}: {exc}"[:500], transient=False) from exc

    started = time.monotonic()
    waited = False

    def on_wait(error: LLMError, delay: float) -> None:
        nonlocal waited
        waited = True
        if notice is not None:
            notice.waiting(error, delay)

    try:
        return with_retries(
            attempt,
            attempts=endpoint.max_attempts,
            budget_seconds=endpoint.retry_budget_seconds,
            label=f"{endpoint.name} {request.key or ''}",
            on_wait=on_wait,
            sleep=notice.sleep if notice is not None else time.sleep,
        )
    except LLMError as error:
        if waited and error.transient:
            raise gave_up(endpoint, error, waited=time.monotonic() - started) from error
        raise
    finally:
        if notice is not None and waited:
            notice.done()


def _remember_structured_output(endpoint: ModelEndpoint, provider: LLMProvider | None) -> None:
    """Store a structured-output downgrade the provider made at run time (a server rejected the mode), once.

    Runs in the caller's thread (the provider's calls run in a pool whose threads must not open DB connections).
    The UPDATE is conditional, so of many workers that hit the rejection together one writes; ``updated_at`` is left
    alone, so the pooled clients of the provider built from this row stay in use.
    """
    mode = getattr(provider, "structured_output", None)
    if mode is None or mode == endpoint.structured_output:
        return
    was = endpoint.structured_output
    stored = ModelEndpoint.objects.filter(pk=endpoint.pk, structured_output=was).update(structured_output=mode)
    endpoint.structured_output = mode
    if stored:  # the provider logged the server's answer
        logger.warning(
            "%s: structured output downgraded from %s to %s (the server rejected it)", endpoint.name, was, mode
        )


def _failed(error: LLMError, endpoint: ModelEndpoint) -> Completion:
    return Completion(text="", valid=False, error=str(error), transient=error.transient, model=endpoint.model)


def llm_complete(*, endpoint: ModelEndpoint, request: LLMRequest, run: JobProgress | None = None) -> Completion:
    """Answer one request (from the response cache when enabled); its usage and cost are logged and added to ``run``.

    Raises ``LLMError`` when the call fails (``transient`` after the retries ran out); an answer that cannot be
    parsed or a refusal comes back as ``Completion(valid=False)`` with the raw reply.
    """
    key = cache_key(endpoint=endpoint, request=request) if endpoint.cache_responses else None
    if key is not None and (hit := cache_lookup(endpoint=endpoint, keys=[key]).get(key)):
        completion = hit
    else:
        provider = provider_for(endpoint)
        try:
            completion = _call(endpoint, provider, request, OutageNotice(endpoint, run, inline=True))
        except LLMError as error:
            recorder = UsageRecorder(endpoint=endpoint, run=run)
            recorder.add(_failed(error, endpoint), request_key=request.key)
            recorder.flush()
            raise
        finally:
            _remember_structured_output(endpoint, provider)
        if key is not None:
            cache_store(endpoint=endpoint, entries={key: completion})
    recorder = UsageRecorder(endpoint=endpoint, run=run)
    recorder.add(completion, request_key=request.key)
    recorder.flush()
    return completion


def llm_complete_many(
    *,
    endpoint: ModelEndpoint,
    requests: list[LLMRequest],
    run: JobProgress | None = None,
    use_batch: bool = False,
    on_result: Callable[[int, Completion], None] | None = None,
) -> list[Completion]:
    """Answer many requests; the results come back in the order of ``requests``.

    Calls run ``endpoint.concurrency`` at a time in threads (the endpoint's limits hold across all workers), or,
    with ``use_batch`` on a provider that has a batch API (Anthropic), as Message Batches at the batch price, with
    items the batch could not do sent again one by one. A call that fails comes back as
    ``Completion(valid=False, error=…)`` (``transient=True`` when retries ran out on a transient fault) instead of
    stopping the others. ``on_result(index, completion)`` is called in the caller's thread as each answer lands,
    so a job can store results as they come. Usage and cost are added to ``run`` as they accrue; if the job is
    cancelled meanwhile, ``JobCancelled`` propagates and the calls not yet started are dropped. ``LLMError`` is
    raised only when nothing can be sent: the endpoint's key is missing, or a batch cannot be submitted.
    """
    results: list[Completion | None] = [None] * len(requests)
    provider: LLMProvider | None = None
    recorder = UsageRecorder(endpoint=endpoint, run=run)
    keys = [cache_key(endpoint=endpoint, request=r) for r in requests] if endpoint.cache_responses else []
    fresh: dict[str, Completion] = {}

    def finish(index: int, completion: Completion, *, batch: bool = False) -> None:
        results[index] = completion
        _remember_structured_output(endpoint, provider)
        recorder.add(completion, request_key=requests[index].key, batch=batch)
        if keys and completion.valid and not completion.from_cache:
            fresh[keys[index]] = completion
            if len(fresh) >= 100:
                cache_store(endpoint=endpoint, entries=fresh)
                fresh.clear()
        if on_result is not None:
            on_result(index, completion)

    if keys:
        hits = cache_lookup(endpoint=endpoint, keys=list(set(keys)))
        for index, key in enumerate(keys):
            if key in hits:
                finish(index, hits[key])
    pending = [index for index, result in enumerate(results) if result is None]
    if pending:
        provider = provider_for(endpoint)
    complete_batch = getattr(provider, "complete_batch", None) if use_batch else None
    if complete_batch is not None and pending:
        # Polling a batch can take hours: each poll is a heartbeat, so the job is neither swept as stalled nor
        # kept alive after a cancel.
        heartbeat = run.check_running if run is not None else None
        outcomes = complete_batch([requests[i] for i in pending], heartbeat=heartbeat)
        retry = []
        for index, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, Completion):
                finish(index, outcome, batch=True)
            elif outcome.transient:
                retry.append(index)
            else:
                finish(index, _failed(outcome, endpoint), batch=True)
        pending = retry
    if provider is not None and pending:
        _run_concurrently(endpoint, provider, requests, pending, finish, OutageNotice(endpoint, run))
    recorder.flush()
    if fresh:
        cache_store(endpoint=endpoint, entries=fresh)
    return [result for result in results if result is not None]


def _run_concurrently(
    endpoint: ModelEndpoint,
    provider: LLMProvider,
    requests: list[LLMRequest],
    pending: list[int],
    finish: Callable[[int, Completion], None],
    notice: OutageNotice,
) -> None:
    if endpoint.provider == Provider.OFFLINE:  # instant and CPU-bound: threads would only add overhead
        for index in pending:
            finish(index, _call_or_failed(endpoint, provider, requests[index]))
        return
    pool = ThreadPoolExecutor(max_workers=min(endpoint.concurrency, len(pending)), thread_name_prefix="llm")
    futures: dict[Future[Completion], int] = {}
    # Each call queues itself when done: taking one result is O(1), where concurrent.futures.wait() walks every
    # pending future on each wake-up (a quarter of a millisecond of CPU per call at 1,280 calls, growing with more).
    landed: queue.SimpleQueue[Future[Completion]] = queue.SimpleQueue()
    try:
        for index in pending:
            future = pool.submit(_call_or_failed, endpoint, provider, requests[index], notice)
            futures[future] = index
            future.add_done_callback(landed.put)
        left = len(futures)
        while left:
            # Woken by each result, and every NOTE_POLL_SECONDS to show (or clear) an outage on the job's page.
            try:
                future = landed.get(timeout=NOTE_POLL_SECONDS)
            except queue.Empty:
                pass
            else:
                finish(futures[future], future.result())
                left -= 1
            notice.publish()
    finally:
        # On an error (e.g. the job was cancelled) drop the calls that have not started and end the waits.
        notice.stopped.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _call_or_failed(
    endpoint: ModelEndpoint, provider: LLMProvider, request: LLMRequest, notice: OutageNotice | None = None
) -> Completion:
    try:
        return _call(endpoint, provider, request, notice)
    except LLMError as error:
        return _failed(error, endpoint)
