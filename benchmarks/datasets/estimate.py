"""Before launch: calls, tokens and cost per stage from the endpoint's prices, with and without batches + caching.

Tokens are estimated at four characters per token from the real prompt and persona texts of the plan and the
lengths of our own prompts; output lengths are the averages of what the stages already produced, else typical
figures (y_l ~350 tokens, a critique ~180). With caching, the persona prefix (instructions + persona) is written
once per persona and stage and read from the cache after that, if it reaches the provider's minimum cacheable
length (``ModelEndpoint.prompt_cache_min_tokens``; a shorter prefix is plain input on every call); with batches the
endpoint's batch share applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count
from django.db.models.functions import Length

from benchmarks.datasets.generation import ANSWER_SYSTEM, CRITIQUE_SYSTEM, REVISION_SYSTEM
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.stages import Stage
from core.llm.models import ModelEndpoint, Provider
from personas.formats import persona_to_text

CHARS_PER_TOKEN = 4
DEFAULT_ANSWER_TOKENS = 350
DEFAULT_CRITIQUE_TOKENS = 180
_MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class StageEstimate:
    stage: str
    label: str
    calls: int
    input_tokens: int
    cached_tokens: int  # of the input, the part a cache could serve (the persona prefix after its first use)
    output_tokens: int
    cost_naive: Decimal  # sequential list prices, no cache, no batch
    cost_optimised: Decimal  # batch share (when the provider has one) + cache reads for the persona prefix


def _tokens(chars: float) -> int:
    return round(chars / CHARS_PER_TOKEN)


def _cost(endpoint: ModelEndpoint, *, fresh: int, cached: int, written: int, output: int, batch: bool) -> Decimal:
    total = (
        fresh * endpoint.price_input_per_mtok
        + cached * endpoint.price_cache_read_per_mtok
        + written * endpoint.price_cache_write_per_mtok
        + output * endpoint.price_output_per_mtok
    ) / _MTOK
    return total * endpoint.batch_price_factor if batch else total


def dataset_estimate(*, dataset: PreferenceDataset) -> list[StageEstimate]:
    """Per stage (y_l, critique, revision, verification): calls, tokens and cost, naive and optimised."""
    endpoint = dataset.generator
    items = dataset.items.aggregate(
        n=Count("pk"), personas=Count("persona", distinct=True), prompt=Avg(Length("prompt__text"))
    )
    n_items, n_personas = items["n"], items["personas"]
    if not n_items or endpoint is None:
        return []
    prompt_chars = items["prompt"] or 0
    sample = dataset.items.values_list("persona__attributes", flat=True)[:200]
    persona_chars = sum(len(persona_to_text(a)) for a in sample) / max(1, len(sample))
    produced = dataset.answers.aggregate(a=Avg(Length("text")))["a"]
    critiques = dataset.items.exclude(critique="").aggregate(c=Avg(Length("critique")))["c"]
    answer_out = _tokens(produced) if produced else DEFAULT_ANSWER_TOKENS
    critique_out = _tokens(critiques) if critiques else DEFAULT_CRITIQUE_TOKENS
    n_answers = n_items if dataset.answer_per_pair else dataset.items.values("prompt_id").distinct().count()
    batch = endpoint.provider == Provider.ANTHROPIC and dataset.use_batch
    prompt_t = _tokens(prompt_chars + 40)
    rows = []

    def stage(
        name: str,
        label: str,
        calls: int,
        prefix: int,
        rest: int,
        output: int,
        cacheable: bool,
        endpoint: ModelEndpoint = endpoint,
        batch: bool = batch,
    ) -> None:
        input_tokens = calls * (prefix + rest)
        if cacheable and n_personas and prefix >= endpoint.prompt_cache_min_tokens:
            cached = max(0, calls - n_personas) * prefix
            written = min(calls, n_personas) * prefix
        else:
            cached = written = 0
        fresh = input_tokens - cached - written
        naive = _cost(endpoint, fresh=input_tokens, cached=0, written=0, output=calls * output, batch=False)
        best = _cost(endpoint, fresh=fresh, cached=cached, written=written, output=calls * output, batch=batch)
        rows.append(StageEstimate(name, label, calls, input_tokens, cached, calls * output, naive, best))

    persona_t = _tokens(persona_chars + 20)
    stage(Stage.ANSWER, Stage.ANSWER.label, n_answers, _tokens(len(ANSWER_SYSTEM)), prompt_t, answer_out, False)
    stage(
        Stage.CRITIQUE,
        Stage.CRITIQUE.label,
        n_items,
        _tokens(len(CRITIQUE_SYSTEM)) + persona_t,
        prompt_t + answer_out,
        critique_out,
        True,
    )
    stage(
        Stage.REVISE,
        Stage.REVISE.label,
        n_items,
        _tokens(len(REVISION_SYSTEM)) + persona_t,
        prompt_t + answer_out + critique_out,
        answer_out,
        True,
    )
    if dataset.verifier is not None:
        verify_calls = 2 * dataset.verifier.samples * (dataset.verify_sample or n_items)
        stage(
            Stage.VERIFY,
            Stage.VERIFY.label,
            verify_calls,
            150 + persona_t,
            prompt_t + 2 * answer_out,
            80,
            True,
            endpoint=dataset.verifier.endpoint,
            batch=False,
        )
    return rows
