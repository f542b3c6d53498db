from __future__ import annotations

import threading

import pytest

from core.jobs import JobCancelled, job_cancel
from core.llm.models import LLMCall, LLMResponse
from core.llm.providers import anthropic as anthropic_provider
from core.llm.service import llm_complete, llm_complete_many
from core.models import Job
from tests.core.llm.requests import PERSONA, ab_request


def test_many_keeps_input_order_and_fills_the_concurrency(make_endpoint, mock_llm):
    mock_llm.config.latency = 0.1
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, concurrency=5)
    requests = [ab_request(f"Question {i}", key=f"q{i}") for i in range(20)]

    completions = llm_complete_many(endpoint=endpoint, requests=requests)

    singles = [llm_complete(endpoint=endpoint, request=r).choice for r in requests[:6]]
    assert [c.choice for c in completions[:6]] == singles  # the mock's pick depends on the question
    assert all(c.valid for c in completions)
    assert mock_llm.state.max_in_flight == 5


def test_one_failing_item_does_not_stop_the_others(anthropic_endpoint, mock_llm):
    requests = [ab_request(f"Q{i}") for i in range(6)]
    requests[1] = ab_request("Q1 [[mock:400]]")
    requests[2] = ab_request("Q2 [[mock:529*2]]")  # recovers on the third try
    requests[3] = ab_request("Q3 [[mock:offformat]]")
    requests[4] = ab_request("Q4 [[mock:500]]")  # never recovers

    completions = llm_complete_many(endpoint=anthropic_endpoint, requests=requests)

    assert [c.valid for c in completions] == [True, False, True, False, False, True]
    assert "HTTP 400" in completions[1].error
    assert not completions[1].transient
    assert "unparseable" in completions[3].error
    assert completions[3].raw
    assert "HTTP 500" in completions[4].error
    assert completions[4].transient
    assert LLMCall.objects.count() == 6


def test_usage_and_cost_are_summed_on_the_job(anthropic_endpoint, job_run):
    completions = llm_complete_many(
        endpoint=anthropic_endpoint, requests=[ab_request(f"Q{i}", cache_prefix=PERSONA) for i in range(5)], run=job_run
    )
    single = llm_complete(endpoint=anthropic_endpoint, request=ab_request("Q9"), run=job_run)

    job = Job.objects.get(pk=job_run.job.pk)
    everything = [*completions, single]
    assert job.cost_usd == sum(c.cost_usd for c in everything)
    assert job.output_tokens == sum(c.usage.output_tokens for c in everything)
    assert job.input_tokens == sum(
        c.usage.input_tokens + c.usage.cache_read_tokens + c.usage.cache_write_tokens for c in everything
    )
    assert LLMCall.objects.filter(job=job).count() == 6


def test_a_cancelled_job_stops_the_calls(anthropic_endpoint, job_run):
    job_cancel(job=job_run.job)
    with pytest.raises(JobCancelled):
        llm_complete_many(endpoint=anthropic_endpoint, requests=[ab_request(f"Q{i}") for i in range(3)], run=job_run)


def test_on_result_sees_each_answer_as_it_lands_in_the_callers_thread(make_endpoint, mock_llm):
    # The calls run in pool threads, which must not touch the database: results are handed back to this thread.
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, concurrency=4)
    seen = []
    llm_complete_many(
        endpoint=endpoint,
        requests=[ab_request(f"Q{i}") for i in range(12)],
        on_result=lambda index, completion: seen.append((index, completion.valid, threading.get_ident())),
    )
    assert sorted(seen) == [(i, True, threading.get_ident()) for i in range(12)]


def test_response_cache_makes_reruns_free_and_identical(make_endpoint, mock_llm, job_run):
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, cache_responses=True)
    requests = [ab_request(f"Q{i}", key=f"k{i}") for i in range(4)]
    first = llm_complete_many(endpoint=endpoint, requests=requests)
    calls = mock_llm.state.stats["/v1/messages"]

    again = llm_complete_many(endpoint=endpoint, requests=requests, run=job_run)
    single = llm_complete(endpoint=endpoint, request=requests[0])

    assert mock_llm.state.stats["/v1/messages"] == calls == 4
    assert [c.choice for c in again] == [c.choice for c in first]
    assert all(c.from_cache and c.cost_usd == 0 for c in [*again, single])
    assert Job.objects.get(pk=job_run.job.pk).cost_usd == 0
    assert LLMResponse.objects.count() == 4
    # Another sample of the same request is a new call.
    llm_complete(endpoint=endpoint, request=ab_request("Q0", key="k0", sample=1))
    assert mock_llm.state.stats["/v1/messages"] == 5


def test_invalid_answers_are_not_cached(make_endpoint, mock_llm):
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, cache_responses=True)
    mock_llm.enqueue("offformat")
    assert not llm_complete(endpoint=endpoint, request=ab_request()).valid
    assert llm_complete(endpoint=endpoint, request=ab_request()).valid
    assert mock_llm.state.stats["/v1/messages"] == 2


def test_batches_submit_in_chunks_and_match_results_by_custom_id(anthropic_endpoint, mock_llm, monkeypatch):
    monkeypatch.setattr(anthropic_provider, "BATCH_MAX_REQUESTS", 10)
    requests = [ab_request(f"Question {i}", cache_prefix=PERSONA) for i in range(25)]
    requests[3] = ab_request("Q3 [[mock:errored*1]]")  # a server-side error: sent again on its own
    requests[7] = ab_request("Q7 [[mock:invalid_item]]")  # a bad request: kept as invalid
    requests[9] = ab_request("Q9 [[mock:offformat]]")

    completions = llm_complete_many(endpoint=anthropic_endpoint, requests=requests, use_batch=True)

    assert mock_llm.state.stats["/v1/messages/batches"] == 3
    assert mock_llm.state.stats["/v1/messages"] == 1  # only the errored item, retried directly
    assert [i for i, c in enumerate(completions) if not c.valid] == [7, 9]
    assert "invalid_request_error" in completions[7].error
    # Results arrive shuffled; each still lands at its own request.
    direct = llm_complete(endpoint=anthropic_endpoint, request=requests[12])
    assert completions[12].choice == direct.choice
    assert completions[12].cost_usd == anthropic_endpoint.cost(completions[12].usage, batch=True)
    assert completions[12].cost_usd < anthropic_endpoint.cost(completions[12].usage)
    assert LLMCall.objects.filter(batch=True).count() == 24


def test_batch_flag_on_a_provider_without_batches_runs_concurrently(openai_endpoint):
    completions = llm_complete_many(endpoint=openai_endpoint, requests=[ab_request("Q")] * 3, use_batch=True)
    assert all(c.valid for c in completions)


def test_a_batch_polls_as_heartbeat_and_is_cancelled_with_its_job(anthropic_endpoint, mock_llm, job_run):
    mock_llm.config.batch_seconds = 30
    polls = []
    check_running = job_run.check_running

    def cancel_on_second_poll() -> None:
        polls.append(1)
        if len(polls) == 2:
            job_cancel(job=job_run.job)
        check_running()

    job_run.check_running = cancel_on_second_poll
    with pytest.raises(JobCancelled):
        llm_complete_many(endpoint=anthropic_endpoint, requests=[ab_request()], run=job_run, use_batch=True)
    assert any(r["path"].endswith("/cancel") for r in mock_llm.state.requests)
    assert next(iter(mock_llm.state.batches.values())).canceled
