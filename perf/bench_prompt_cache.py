"""Prompt caching at real providers' minimums, on the prompts the app really sends. Command: ``bin/perf prompt_cache``.

Each row builds its requests with the stage's own prompt builder (the judges' role-play prompt, PERSONA Bench's
methods and critic, the LLM persona profile stage) for 20 personas, and answers them through the real Anthropic SDK
against the mock server, which caches a prefix only from Claude's minimum (1,024 tokens; 2,048 for Haiku-class
models). Optimised: Message Batches + the cached prefix (instructions + persona card guide + persona) at Claude
Sonnet's list prices; naive: the same requests sent one by one with cache reads and writes billed as plain input.
The figure is the optimised ÷ naive cost, as the pairs row in ``bench_pairs`` counts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from django.core.management import call_command
from django.db.models import Sum

from benchmarks.bench.models import Method
from benchmarks.bench.prompts import critic_request, method_request
from benchmarks.judging.models import Judge, Order
from benchmarks.judging.prompts import judgment_request
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.llm.models import ModelEndpoint
from core.llm.service import llm_complete_many
from core.llm.types import LLMRequest
from perf.bench_pairs import PERSONA
from perf.result import Result
from personas.llm_profile import profile_request
from personas.models import Persona
from tests.llm_mock import spawn_mock_server

TAG = "bench-prompt-cache"
PERSONAS = 20
ITEMS_PER_PERSONA = 10
TARGET = 0.35


def _endpoint(url: str, *, naive: bool, model: str) -> ModelEndpoint:
    endpoint = ModelEndpoint(
        name=f"{TAG}-{uuid.uuid4().hex[:8]}",
        provider="anthropic",
        model=model,
        base_url=url,
        concurrency=1 if naive else 16,
        timeout_seconds=30,
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
        price_cache_read_per_mtok=Decimal(3) if naive else Decimal("0.30"),
        price_cache_write_per_mtok=Decimal(3) if naive else Decimal("3.75"),
        batch_price_factor=Decimal("0.5"),
    )
    endpoint.save()
    return endpoint


def _persona(index: int) -> Persona:
    return Persona(pk=10_000 + index, attributes={**PERSONA, "age": str(20 + index * 3), "religion": f"Faith {index}"})


def _question(index: int) -> str:
    topics = ["saving for retirement", "raising teenagers", "moving to a new town", "changing careers"]
    return f"How should I think about {topics[index % 4]} this year? (question {index})"


def _judge_requests() -> list[LLMRequest]:
    judge = Judge(pk=1, name="perf", with_confidence=True, allow_abstain=True)
    requests = []
    for p in range(PERSONAS):
        persona = _persona(p)
        for i in range(ITEMS_PER_PERSONA):
            pair = PreferencePair(
                pk=i + 1,
                prompt=Prompt(text=_question(i)),
                chosen=f"Start small and steady: automatic transfers of a fixed share each month add up ({i}).",
                rejected=f"Talk to a planner, compare index funds and employer matches, then write a plan ({i}).",
            )
            requests += [
                judgment_request(judge=judge, persona=persona, pair=pair, order=order, sample=0)
                for order in (Order.CHOSEN_FIRST, Order.REJECTED_FIRST)
            ]
    return requests


def _bench_requests() -> list[LLMRequest]:
    requests = []
    for p in range(PERSONAS):
        values = _persona(p).attributes
        for i in range(ITEMS_PER_PERSONA):
            question = _question(i)
            for method in (Method.PERSONA, Method.CHAIN_OF_THOUGHT, Method.DEMOGRAPHIC_SUMMARY):
                requests.append(
                    method_request(method=method, persona=values, question=question, key=f"{p}-{i}-{method}", sample=0)
                )
            answer = f"Here is a balanced answer about {question.lower()} with a few practical steps to take."
            requests.append(critic_request(persona=values, question=question, answer=answer, key=f"{p}-{i}-critic"))
    return requests


def _profile_requests() -> list[LLMRequest]:
    return [profile_request(_persona(p)) for p in range(PERSONAS * ITEMS_PER_PERSONA)]


def _cost(build: Callable[[], list[LLMRequest]], *, model: str = "mock-model") -> tuple[float, str]:
    requests = build()
    costs = {}
    with spawn_mock_server(latency=0.0, varied_text=True, batch_seconds=0.2) as url:
        for label, naive in (("naive", True), ("optimised", False)):
            endpoint = _endpoint(url, naive=naive, model=model)
            completions = llm_complete_many(endpoint=endpoint, requests=requests, use_batch=not naive)
            assert all(c.valid for c in completions), next(c.error for c in completions if not c.valid)
            totals = endpoint.calls.aggregate(cost=Sum("cost_usd"), read=Sum("cache_read_tokens"))
            costs[label] = (totals["cost"] or Decimal(0), totals["read"] or 0)
    (optimised, read), (naive_cost, _) = costs["optimised"], costs["naive"]
    note = f"{len(requests)} requests: ${optimised:.3f} vs ${naive_cost:.3f} naive; {read:,} tokens read from cache"
    return float(optimised / naive_cost), note


def run() -> list[Result]:
    call_command("migrate", verbosity=0)
    try:
        judge, judge_note = _cost(_judge_requests)
        bench, bench_note = _cost(_bench_requests)
        profile, profile_note = _cost(_profile_requests)
        haiku, haiku_note = _cost(_judge_requests, model="claude-haiku-mock")
    finally:
        ModelEndpoint.objects.filter(name__startswith=TAG).delete()
    return [
        Result(
            "prompt_cache",
            "judge prompts optimised / naive, Claude's minimum (1,024)",
            judge,
            "ratio",
            f"<= {TARGET}",
            judge <= TARGET,
            judge_note,
        ),
        Result(
            "prompt_cache",
            "bench prompts (3 methods + critic) optimised / naive, 1,024",
            bench,
            "ratio",
            f"<= {TARGET}",
            bench <= TARGET,
            bench_note,
        ),
        Result(
            "prompt_cache",
            "persona profile prompts optimised / naive, 1,024",
            profile,
            "ratio",
            f"<= {TARGET}",
            profile <= TARGET,
            profile_note,
        ),
        Result(
            "prompt_cache",
            "judge prompts, Haiku-class minimum (2,048)",
            haiku,
            "ratio",
            note=f"instructions + persona stay under 2,048: batches only; {haiku_note}",
        ),
    ]
