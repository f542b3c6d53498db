"""The stages against the mock LLM server through the real SDKs: Anthropic batches with the persona as the cached
prefix, an OpenAI-compatible server at its concurrency, and 20 % provider faults."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest

from benchmarks.datasets.generation import (
    critique_request,
    persona_values,
    revision_problem,
    revision_request,
    revision_retry_reason,
    text_problem,
)
from benchmarks.datasets.models import ItemStatus
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.pairs.models import PreferencePair
from core.jobs import JobRun
from core.llm.endpoints import endpoint_upsert
from core.llm.models import LLMCall, ModelEndpoint, Provider
from core.llm.service import llm_complete
from core.models import JobStatus
from tests.benchmarks.datasets.conftest import dataset_make
from tests.factories import JobFactory
from tests.llm_mock import MockLLMServer
from tests.llm_retries import llm_fast_retries

KEY_ENV = "PERSONA_LAB_TEST_DATASET_KEY"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    llm_fast_retries(monkeypatch, key_env=KEY_ENV)


@pytest.fixture
def mock_llm() -> Iterator[MockLLMServer]:
    with MockLLMServer(varied_text=True, hang_seconds=1.0, batch_seconds=0.05) as server:
        yield server


def _endpoint(provider: str, url: str, **fields: object) -> ModelEndpoint:
    endpoint, _ = endpoint_upsert(
        name=f"gen-{uuid.uuid4().hex[:8]}",
        provider=provider,
        model=fields.pop("model", "mock-model"),
        base_url=url,
        api_key_env=KEY_ENV,
        concurrency=fields.pop("concurrency", 4),
        timeout_seconds=0.5,
        max_attempts=4,
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
        price_cache_read_per_mtok=Decimal("0.3"),
        price_cache_write_per_mtok=Decimal("3.75"),
        **fields,
    )
    return endpoint


def _run_all(dataset, run=None):
    return [stage(dataset=dataset, job=run) for stage in (stage_answer_run, stage_critique_run, stage_revise_run)]


def test_anthropic_batches_with_cached_persona_prefix(small_world, mock_llm):
    # Claude caches a prefix from 1,024 tokens: the instructions carry the persona card guide, so instructions + any
    # persona reach it, and each persona's critiques and revisions share one cached prefix.
    dataset = dataset_make(generator=_endpoint(Provider.ANTHROPIC, mock_llm.url), use_batch=True)
    dataset_plan(dataset=dataset)
    job = JobFactory(status=JobStatus.RUNNING)
    answers, critiques, revisions = _run_all(dataset, JobRun(job))
    assert critiques.done == 24
    assert revisions.done == PreferencePair.objects.filter(dataset=dataset).count() == 24
    assert mock_llm.state.stats["/v1/messages/batches"] == 3  # one batch per stage
    assert mock_llm.state.stats["/v1/messages"] == 0
    calls = LLMCall.objects.filter(job=job)
    assert calls.filter(batch=True).count() == answers.done + 24 + 24
    personas = len(small_world["personas"])
    # Each persona's prefix is written once per stage (critique, revision) and read by its other calls.
    assert calls.filter(cache_write_tokens__gt=0).count() == 2 * personas
    assert calls.filter(cache_read_tokens__gt=0).count() == 48 - 2 * personas
    assert calls.filter(cache_read_tokens__gt=0, cache_read_tokens__lt=1024).count() == 0
    # The answers (y_l) carry no persona and no long prefix: nothing to cache.
    assert calls.filter(request_key__contains="-yl-", cache_read_tokens__gt=0).count() == 0
    job.refresh_from_db()
    assert job.cost_usd > 0


def test_openai_compatible_runs_at_its_concurrency(small_world, mock_llm):
    mock_llm.config.latency = 0.05
    dataset = dataset_make(generator=_endpoint(Provider.OPENAI_COMPATIBLE, mock_llm.openai_url, concurrency=6))
    dataset_plan(dataset=dataset)
    _, critiques, revisions = _run_all(dataset)
    assert critiques.done == revisions.done == 24
    assert 1 < mock_llm.state.max_in_flight <= 6


def test_twenty_percent_faults_end_complete_with_garbage_counted(small_world, mock_llm):
    dataset = dataset_make(generator=_endpoint(Provider.ANTHROPIC, mock_llm.url), use_batch=False)
    dataset_plan(dataset=dataset)
    stage_answer_run(dataset=dataset)
    # 5 of the next 24 calls fail: rate limit (with Retry-After), overload, server error, a hang past the timeout,
    # and a garbage body. The first four are retried; the garbage is counted as a failed item.
    mock_llm.enqueue("429", "malformed", "500", "hang", "529")
    result = stage_critique_run(dataset=dataset)
    assert result.done + result.failed == result.requested == 24
    assert result.failed == 1
    failed = dataset.items.get(status=ItemStatus.FAILED)
    assert (failed.failure_stage, failed.failure_reason) == ("critique", "call_failed")
    assert "malformed" in failed.failure_detail
    # A re-run retries the failed item and completes the stage.
    again = stage_critique_run(dataset=dataset)
    assert (again.requested, again.done) == (1, 1)
    assert not dataset.items.filter(status=ItemStatus.FAILED).exists()


def test_critique_and_revision_requests_through_the_sdk_and_the_revision_rules(mock_llm, db):
    endpoint = _endpoint(Provider.ANTHROPIC, mock_llm.url)
    persona = "age: 41\nreligion: Quaker\noccupation category: Beekeeper"
    question, values = "Is honey vegan?", persona_values(persona)
    request = critique_request(persona_text=persona, prompt_text=question, answer="Maybe.")
    critique = llm_complete(endpoint=endpoint, request=request)
    assert text_problem(critique) is None
    assert critique.text.startswith("Mock reply")
    # y_l shorter than any mock reply: the revision breaks the length rule, and the retry's request says so.
    request = revision_request(persona_text=persona, prompt_text=question, answer="No.", critique=critique.text)
    revision = llm_complete(endpoint=endpoint, request=request)
    problem = revision_problem(completion=revision, original="No.", attribute_values=values)
    assert problem is not None
    assert problem[0] == "too_long"
    reason = revision_retry_reason(problem)
    retry = revision_request(persona_text=persona, prompt_text=question, answer="No", critique="x", retry_reason=reason)
    assert reason in retry.messages[-1].content
    long_answer = "Honey is not vegan for most definitions because bees make it. " * 2
    request = revision_request(persona_text=persona, prompt_text=question, answer=long_answer, critique="x")
    revision = llm_complete(endpoint=endpoint, request=request)
    assert revision_problem(completion=revision, original=long_answer, attribute_values=values) is None
    bodies = [r["body"] for r in mock_llm.state.requests]
    assert Counter(b["system"][1]["text"].startswith("The person:") for b in bodies)[True] == len(bodies)


def test_controversy_classifier_job_through_the_sdk(mock_llm, db):
    from benchmarks.prompts.filters import prompts_classify
    from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, text_digest

    texts = [f"Should question number {i} split opinion among people?" for i in range(12)]
    Prompt.objects.bulk_create(
        [Prompt(text=t, text_sha256=text_digest(t), form_check=FormCheck.PASSED) for t in texts]
        + [Prompt(text="Short?", text_sha256=text_digest("Short?"), form_check=FormCheck.TOO_SHORT)]
    )
    mock_llm.enqueue("offformat")  # one reply that is neither yes nor no: left unchecked, counted as failed
    job = JobFactory(status=JobStatus.RUNNING)
    counts = prompts_classify(endpoint=_endpoint(Provider.OPENAI_COMPATIBLE, mock_llm.openai_url), run=JobRun(job))
    assert counts["invalid"] == 1
    assert counts[ControversyVerdict.CONTROVERSIAL] + counts[ControversyVerdict.REJECTED] == 11
    checked = Prompt.objects.exclude(controversy=ControversyVerdict.UNCHECKED)
    assert checked.count() == 11
    assert all(p.controversy_reason.startswith("Mock reasoning") for p in checked)
    assert Prompt.objects.get(text="Short?").controversy == ControversyVerdict.UNCHECKED  # failed the form check
    job.refresh_from_db()
    assert (job.total, job.done, job.failed) == (12, 11, 1)
    # A re-run asks only about the one left unchecked.
    again = prompts_classify(endpoint=_endpoint(Provider.ANTHROPIC, mock_llm.url))
    assert sum(again.values()) == 1


def test_estimate_counts_calls_and_prices_batches_and_cache(small_world, mock_llm):
    from benchmarks.datasets.estimate import dataset_estimate
    from tests.benchmarks.datasets.conftest import verifier_judge

    # A Haiku-class model caches from 2,048 tokens: instructions + these short personas stay under it.
    haiku = _endpoint(Provider.ANTHROPIC, mock_llm.url, model="claude-haiku-mock")
    dataset = dataset_make(generator=haiku, use_batch=True, verifier=verifier_judge())
    dataset_plan(dataset=dataset)
    rows = {row.stage: row for row in dataset_estimate(dataset=dataset)}
    assert rows["answer"].calls == dataset.items.values("prompt_id").distinct().count()
    assert rows["critique"].calls == rows["revise"].calls == 24
    assert rows["verify"].calls == 48
    for stage in ("critique", "revise"):
        assert rows[stage].cached_tokens == 0
        assert rows[stage].cost_optimised == rows[stage].cost_naive / 2  # the batch share alone
    assert rows["answer"].cost_optimised <= rows["answer"].cost_naive / 2

    # Claude's usual 1,024: the instructions carry the persona card guide, so instructions + persona are cached.
    dataset.generator = _endpoint(Provider.ANTHROPIC, mock_llm.url)
    dataset.save(update_fields=["generator"])
    rows = {row.stage: row for row in dataset_estimate(dataset=dataset)}
    for stage in ("critique", "revise"):
        assert 0 < rows[stage].cached_tokens < rows[stage].input_tokens
        assert rows[stage].cost_optimised < rows[stage].cost_naive / 2  # batch share + cache reads


def test_a_y_l_that_echoes_its_instructions_fails_the_items_that_need_it(small_world, mock_llm):
    dataset = dataset_make(generator=_endpoint(Provider.OPENAI_COMPATIBLE, mock_llm.openai_url, concurrency=1))
    dataset_plan(dataset=dataset)
    mock_llm.enqueue("echo")  # the first y_l repeats the stage's system prompt until it is cut off
    result = stage_answer_run(dataset=dataset)
    assert (result.invalid, result.failed) == (1, 1)
    failed = dataset.items.filter(status=ItemStatus.FAILED)
    assert failed.exists()
    assert set(failed.values_list("failure_stage", "failure_reason")) == {("answer", "echo")}
    # A re-run asks that y_l again (the failed items go back to planned) and completes the stage.
    again = stage_answer_run(dataset=dataset)
    assert (again.requested, again.done) == (1, 1)
    assert not dataset.items.filter(status=ItemStatus.FAILED).exists()
