from __future__ import annotations

import time
from decimal import Decimal

import pytest

from core.llm import LLMError
from core.llm.models import LLMCall
from core.llm.service import llm_complete
from tests.core.llm.requests import PERSONA, ab_request, text_request


def test_choice_is_a_forced_tool_with_an_enum(anthropic_endpoint, mock_llm):
    completion = llm_complete(endpoint=anthropic_endpoint, request=ab_request(key="pair-1"))

    assert completion.valid, completion.error
    assert completion.choice in ("A", "B")
    assert completion.reasoning.startswith("Mock reasoning")
    assert completion.confidence == 70
    assert completion.stop_reason == "tool_use"
    assert completion.model == "mock-model"
    assert completion.latency_s > 0
    body = mock_llm.state.requests[-1]["body"]
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    assert body["tools"][0]["input_schema"]["properties"]["choice"]["enum"] == ["A", "B"]
    assert "temperature" not in body
    usage = completion.usage
    expected = (usage.input_tokens * 3 + usage.output_tokens * 15) / Decimal(1_000_000)
    assert completion.cost_usd == expected.quantize(Decimal("0.000001"))
    call = LLMCall.objects.get()
    assert (call.request_key, call.input_tokens, call.cost_usd) == ("pair-1", usage.input_tokens, completion.cost_usd)


def test_plain_text_request(anthropic_endpoint):
    completion = llm_complete(endpoint=anthropic_endpoint, request=text_request())
    assert completion.valid
    assert completion.text == "Mock reply."
    assert completion.choice is None


def test_persona_prefix_is_cached_and_priced_apart(anthropic_endpoint, mock_llm):
    first = llm_complete(endpoint=anthropic_endpoint, request=ab_request("Q1", cache_prefix=PERSONA))
    second = llm_complete(endpoint=anthropic_endpoint, request=ab_request("Q2", cache_prefix=PERSONA))

    system = mock_llm.state.requests[-1]["body"]["system"]
    assert system[0] == {"type": "text", "text": "You judge answers as the persona would."}
    assert system[1] == {"type": "text", "text": PERSONA, "cache_control": {"type": "ephemeral"}}
    assert first.usage.cache_write_tokens > 1000
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.cost_usd < first.cost_usd / 3


@pytest.mark.parametrize(
    ("model", "prefix", "minimum", "cached"),
    [
        ("mock-sonnet", PERSONA[:2400], 1024, False),  # ~700 tokens with the instructions: under Claude's 1,024
        ("mock-sonnet", PERSONA, 1024, True),
        ("mock-haiku", PERSONA, 2048, False),  # ~1,400 tokens: under a Haiku-class model's 2,048
        ("mock-haiku", PERSONA * 2, 2048, True),
    ],
)
def test_a_prefix_is_cached_only_from_the_models_minimum_length(
    make_endpoint, mock_llm, model, prefix, minimum, cached
):
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, model=model)
    assert endpoint.prompt_cache_min_tokens == minimum
    first = llm_complete(endpoint=endpoint, request=ab_request("Q1", cache_prefix=prefix))
    second = llm_complete(endpoint=endpoint, request=ab_request("Q2", cache_prefix=prefix))
    assert (first.usage.cache_write_tokens > 0, second.usage.cache_read_tokens > 0) == (cached, cached)
    if not cached:
        assert first.usage.cache_write_tokens == second.usage.cache_read_tokens == 0
        assert second.usage.input_tokens == first.usage.input_tokens  # the whole prompt billed as input each time


@pytest.mark.parametrize("fault", ["429", "529", "500"])
def test_transient_errors_are_retried(anthropic_endpoint, mock_llm, fault):
    mock_llm.enqueue(fault, fault)
    completion = llm_complete(endpoint=anthropic_endpoint, request=ab_request())
    assert completion.valid
    assert mock_llm.state.stats["/v1/messages"] == 3


def test_retry_after_is_honoured(anthropic_endpoint, mock_llm):
    mock_llm.config.retry_after = "0.4"
    mock_llm.enqueue("429")
    started = time.monotonic()
    assert llm_complete(endpoint=anthropic_endpoint, request=ab_request()).valid
    assert time.monotonic() - started >= 0.4


def test_a_hang_times_out_and_is_retried(make_endpoint, mock_llm):
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url, timeout_seconds=0.3)
    mock_llm.config.hang_seconds = 1.0
    mock_llm.enqueue("hang")
    assert llm_complete(endpoint=endpoint, request=ab_request()).valid
    assert mock_llm.state.stats["/v1/messages"] == 2


def test_retries_run_out_on_a_lasting_outage(anthropic_endpoint, mock_llm):
    mock_llm.enqueue(*["529"] * 10)
    with pytest.raises(LLMError) as caught:
        llm_complete(endpoint=anthropic_endpoint, request=ab_request())
    assert caught.value.transient
    assert caught.value.status_code == 529
    assert mock_llm.state.stats["/v1/messages"] == anthropic_endpoint.max_attempts
    assert LLMCall.objects.get().valid is False


@pytest.mark.parametrize("fault", ["400", "401", "404"])
def test_permanent_errors_fail_at_once(anthropic_endpoint, mock_llm, fault):
    mock_llm.enqueue(fault)
    with pytest.raises(LLMError) as caught:
        llm_complete(endpoint=anthropic_endpoint, request=ab_request())
    assert not caught.value.transient
    assert caught.value.status_code == int(fault)
    assert mock_llm.state.stats["/v1/messages"] == 1


def test_missing_key_is_a_permanent_error(anthropic_endpoint, monkeypatch):
    monkeypatch.delenv("PERSONA_LAB_TEST_LLM_KEY")
    with pytest.raises(LLMError, match="PERSONA_LAB_TEST_LLM_KEY"):
        llm_complete(endpoint=anthropic_endpoint, request=ab_request())


@pytest.mark.parametrize(
    ("fault", "error"),
    [("malformed", "malformed response"), ("offformat", "not one of A, B"), ("refusal", "refused")],
)
def test_unusable_replies_are_invalid_not_crashes(anthropic_endpoint, mock_llm, fault, error):
    mock_llm.enqueue(fault)
    completion = llm_complete(endpoint=anthropic_endpoint, request=ab_request())
    assert not completion.valid
    assert completion.choice is None
    assert error in completion.error
    assert completion.raw  # the reply as received, kept for audit
    assert mock_llm.state.stats["/v1/messages"] == 1
