"""Every persona-conditioned stage's shared prefix (instructions + persona) reaches Claude's 1,024-token cache
minimum even for a sparse persona (a child: few attributes), with the per-request part after it."""

from __future__ import annotations

import pytest

from benchmarks.bench.models import Method
from benchmarks.bench.prompts import critic_request, method_request, summary_request
from benchmarks.datasets.generation import critique_request, revision_request
from benchmarks.judging.models import Judge, Order
from benchmarks.judging.prompts import judgment_request
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.llm.types import LLMRequest
from personas.formats import persona_to_text
from personas.llm_profile import profile_request
from personas.models import Persona
from tests.llm_mock import count_tokens

CHILD = {"age": "6", "sex": "Female", "race": "White alone", "big five scores": "Openness: High"}
QUESTION = "Which pet should our family get?"


def _shared_tokens(request: LLMRequest) -> int:
    return count_tokens(request.system) + count_tokens(request.cache_prefix or "")


def _requests() -> dict[str, LLMRequest]:
    persona = Persona(pk=1, attributes=CHILD)
    pair = PreferencePair(pk=1, prompt=Prompt(text=QUESTION), chosen="A cat.", rejected="A horse.")
    text = persona_to_text(CHILD)
    return {
        "judge": judgment_request(
            judge=Judge(pk=1, with_confidence=False, allow_abstain=False),
            persona=persona,
            pair=pair,
            order=Order.CHOSEN_FIRST,
            sample=0,
        ),
        **{
            f"bench {method}": method_request(method=method, persona=CHILD, question=QUESTION, key="k", sample=0)
            for method in (Method.PERSONA, Method.CHAIN_OF_THOUGHT, Method.DEMOGRAPHIC_SUMMARY)
        },
        "critic": critic_request(persona=CHILD, question=QUESTION, answer="A cat.", key="k"),
        "summary": summary_request(persona=CHILD, question=QUESTION, summary="Young.", key="k"),
        "critique": critique_request(persona_text=text, prompt_text=QUESTION, answer="A cat."),
        "revision": revision_request(persona_text=text, prompt_text=QUESTION, answer="A cat.", critique="Fine."),
        "profile": profile_request(persona),
    }


@pytest.mark.parametrize("stage", list(_requests()))
def test_the_shared_prefix_reaches_claudes_minimum_and_the_request_comes_after(stage: str) -> None:
    request = _requests()[stage]
    assert _shared_tokens(request) >= 1024
    assert request.cache_prefix  # closes the cached prefix (Anthropic's cache_control)
    assert QUESTION not in request.system + request.cache_prefix or stage == "profile"
