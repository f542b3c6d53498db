"""LLM layer benchmark: throughput at concurrency 32, client CPU per call, and the cost of batches + caching.

Runs the real Anthropic SDK against the mock server (tests/llm_mock) started in its own process, so the CPU figure
is the client's alone. Command: ``bin/perf llm``.
"""

from __future__ import annotations

import os
import time
import uuid
from decimal import Decimal

from django.core.management import call_command

from core.jobs import JobRun
from core.llm import ChoiceSchema, LLMRequest, Message
from core.llm.models import ModelEndpoint
from core.llm.service import llm_complete, llm_complete_many
from core.models import Job, JobStatus
from perf.result import Result
from tests.llm_mock import spawn_mock_server

LATENCY = 0.2
CONCURRENCY = 32
THROUGHPUT_CALLS = 1280  # 40 rounds of 32, so ramp-up and tail weigh little
PERSONAS = 50
PAIRS_PER_PERSONA = 20  # 50 x 20 = 1,000 persona judgments

_INSTRUCTIONS = (
    "You are taking part in a study of pluralistic alignment. You will be shown a persona: a description of one "
    "person, drawn from census data and enriched with their values, habits and circumstances. Read it closely. "
    "Then you will see a prompt a user sent to an assistant and two candidate answers, A and B. Decide which answer "
    "this particular person would prefer, not which answer you prefer and not which is better in general. Weigh "
    "their background, their stated values, their level of education, their occupation, their region and their "
    "tone preferences. If both are equally good for them, pick the one whose style suits them better. "
) * 4


def _persona(index: int) -> str:
    traits = (
        f"Persona {index}: age {20 + index % 60}, lives in region {index % 9}, works as occupation {index % 31}, "
        f"household of {1 + index % 6}, education level {index % 8}, income decile {index % 10}. "
        "Values: family, fairness, self-reliance, community ties, practical solutions, plain language. "
        "Dislikes: jargon, condescension, long-winded answers, hedging without reason. "
    )
    return traits * 5


def _endpoint(url: str) -> ModelEndpoint:
    endpoint = ModelEndpoint(
        name=f"bench-{uuid.uuid4().hex[:8]}",
        provider="anthropic",
        model="mock-sonnet",
        base_url=url,
        concurrency=CONCURRENCY,
        timeout_seconds=30,
        # Claude Sonnet list prices, USD per million tokens; batches at half price.
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
        price_cache_read_per_mtok=Decimal("0.30"),
        price_cache_write_per_mtok=Decimal("3.75"),
        batch_price_factor=Decimal("0.5"),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def _judgment(persona: int, pair: int, *, cached: bool) -> LLMRequest:
    prefix = f"{_INSTRUCTIONS}\n\n{_persona(persona)}"
    question = (
        f"Prompt {pair}: How should I think about saving for retirement while supporting my family? "
        f"Answer A: Start small and steady; automatic transfers of a fixed share each month add up. (variant {pair}) "
        f"Answer B: Talk to a planner, compare index funds and employer matches, then set a written plan. ({pair})"
    )
    choice = ChoiceSchema(options=("A", "B"), with_confidence=True)
    if cached:
        return LLMRequest(system="", cache_prefix=prefix, messages=(Message("user", question),), choice=choice)
    return LLMRequest(system=prefix, messages=(Message("user", question),), choice=choice)


def _run() -> JobRun:
    job = Job.objects.create(kind="perf.llm", dedupe_key=f"perf-{uuid.uuid4().hex}", status=JobStatus.RUNNING)
    return JobRun(job)


def _throughput() -> list[Result]:
    with spawn_mock_server(latency=LATENCY) as url:
        endpoint = _endpoint(url)
        requests = [_judgment(i % PERSONAS, i, cached=True) for i in range(THROUGHPUT_CALLS)]
        llm_complete_many(endpoint=endpoint, requests=requests[:CONCURRENCY])  # warm connections and imports
        cpu, wall = time.process_time(), time.perf_counter()
        completions = llm_complete_many(endpoint=endpoint, requests=requests)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    valid = sum(c.valid for c in completions)
    achieved = len(requests) / wall
    ideal = CONCURRENCY / LATENCY
    ratio = achieved / ideal
    cpu_ms = 1000 * cpu / len(requests)
    # Time each call spent beyond the server's sleep, measured around the SDK call: CPU plus scheduling waits.
    overhead_ms = 1000 * (sum(c.latency_s for c in completions) / len(completions) - LATENCY)
    # The machine's load says how much CPU the client and the mock server could get while we measured.
    note = (
        f"{len(requests)} calls, {valid} valid, {achieved:.1f} calls/s vs ideal {ideal:.0f}/s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return [
        Result("llm", "throughput / (concurrency / latency) @32", ratio, "ratio", ">= 0.9", ratio >= 0.9, note),
        Result("llm", "client CPU per call", cpu_ms, "ms", "< 5", cpu_ms < 5, "SDK + limiter + usage log"),
        Result("llm", "mean time per call beyond the 200 ms latency", overhead_ms, "ms", note="inside the SDK call"),
    ]


def _cost() -> list[Result]:
    with spawn_mock_server(latency=0.0, batch_seconds=0.5) as url:
        endpoint = _endpoint(url)
        naive_run, batched_run = _run(), _run()
        for persona in range(PERSONAS):
            for pair in range(PAIRS_PER_PERSONA):
                llm_complete(endpoint=endpoint, request=_judgment(persona, pair, cached=False), run=naive_run)
        requests = [_judgment(p, q, cached=True) for p in range(PERSONAS) for q in range(PAIRS_PER_PERSONA)]
        completions = llm_complete_many(endpoint=endpoint, requests=requests, run=batched_run, use_batch=True)
    naive = Job.objects.get(pk=naive_run.job.pk)
    batched = Job.objects.get(pk=batched_run.job.pk)
    ratio = float(batched.cost_usd / naive.cost_usd)
    note = (
        f"1,000 judgments: ${batched.cost_usd:.2f} batched+cached vs ${naive.cost_usd:.2f} sequential "
        f"({sum(c.valid for c in completions)} valid)"
    )
    return [Result("llm", "cost batches+cache / naive sequential", ratio, "ratio", "<= 0.5", ratio <= 0.5, note)]


def run() -> list[Result]:
    call_command("migrate", verbosity=0)
    try:
        return _throughput() + _cost()
    finally:
        ModelEndpoint.objects.filter(name__startswith="bench-").delete()
        Job.objects.filter(kind="perf.llm").delete()
