from __future__ import annotations

import pytest

from core.llm import ChoiceSchema, LLMRequest, Message
from core.llm.providers.offline import OFFLINE_MARK
from core.llm.service import llm_complete, llm_complete_many
from tests.core.llm.requests import text_request

PERSONA = "A rancher in rural Wyoming who cares about cattle, water rights and the weather."
RELEVANT = "Water rights matter for a rancher: the cattle need water when the weather turns dry."
OTHER = "Urban apartments offer nightlife, museums and short commutes by subway."


def judge_request(a: str, b: str, *, key: str = "pair-1", **choice: object) -> LLMRequest:
    return LLMRequest(
        system="Judge as the persona.",
        cache_prefix=PERSONA,
        messages=(Message("user", f"A: {a}\nB: {b}"),),
        choice=ChoiceSchema(options=("A", "B"), options_text=(a, b), **choice),  # type: ignore[arg-type]
        key=key,
    )


@pytest.mark.parametrize(
    ("model", "a", "b", "expected"),
    [
        ("always_a", OTHER, RELEVANT, "A"),
        ("shorter_answer", RELEVANT, "Short.", "B"),
        ("shorter_answer", "Same", "Same", "A"),
        ("persona_overlap", OTHER, RELEVANT, "B"),
        ("persona_overlap", RELEVANT, OTHER, "A"),
    ],
)
def test_offline_judges(make_endpoint, model, a, b, expected):
    endpoint = make_endpoint("offline", model=model)
    completion = llm_complete(endpoint=endpoint, request=judge_request(a, b))
    assert completion.valid
    assert completion.choice == expected
    assert completion.model == f"offline:{model}"
    assert completion.cost_usd == 0
    assert completion.reasoning.startswith("Offline baseline")


def test_random_judge_is_seeded_per_request_key(make_endpoint):
    endpoint = make_endpoint("offline", model="random")
    requests = [judge_request(RELEVANT, OTHER, key=f"pair-{i}") for i in range(40)]
    first = [c.choice for c in llm_complete_many(endpoint=endpoint, requests=requests)]
    again = [c.choice for c in llm_complete_many(endpoint=endpoint, requests=requests)]
    assert first == again
    assert set(first) == {"A", "B"}


def test_persona_overlap_abstains_on_a_tie_when_allowed(make_endpoint):
    endpoint = make_endpoint("offline", model="persona_overlap")
    completion = llm_complete(endpoint=endpoint, request=judge_request(OTHER, OTHER, allow_abstain=True))
    assert completion.choice == "abstain"


def test_judges_needing_answer_texts_say_so(make_endpoint):
    endpoint = make_endpoint("offline", model="shorter_answer")
    request = LLMRequest(system="", messages=(Message("user", "?"),), choice=ChoiceSchema(options=("A", "B")))
    completion = llm_complete(endpoint=endpoint, request=request)
    assert not completion.valid
    assert "options_text" in completion.error


def test_text_generator_is_deterministic_and_marked(make_endpoint):
    endpoint = make_endpoint("offline", model="text")
    first = llm_complete(endpoint=endpoint, request=text_request("Tell me about water rights."))
    second = llm_complete(endpoint=endpoint, request=text_request("Tell me about water rights."))
    other = llm_complete(endpoint=endpoint, request=text_request("Something else entirely."))
    assert first.text == second.text != other.text
    assert first.text.startswith(OFFLINE_MARK)
