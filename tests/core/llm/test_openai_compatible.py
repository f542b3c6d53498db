from __future__ import annotations

import pytest

from core.llm import LLMError
from core.llm.service import llm_complete
from tests.core.llm.requests import PERSONA, ab_request, text_request


def test_choice_uses_json_schema(openai_endpoint, mock_llm):
    completion = llm_complete(endpoint=openai_endpoint, request=ab_request(key="k1"))

    assert completion.valid, completion.error
    assert completion.choice in ("A", "B")
    assert completion.confidence == 70
    assert completion.stop_reason == "stop"
    body = mock_llm.state.requests[-1]["body"]
    assert mock_llm.state.requests[-1]["path"] == "/v1/chat/completions"
    schema = body["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["properties"]["choice"]["enum"] == ["A", "B"]
    assert body["messages"][0]["role"] == "system"


def test_server_without_json_schema_falls_back_to_plain_text(make_endpoint, mock_llm):
    mock_llm.config.reject_json_schema = True
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url)

    first = llm_complete(endpoint=endpoint, request=ab_request("Q1"))
    second = llm_complete(endpoint=endpoint, request=ab_request("Q2"))

    assert first.valid, first.error
    assert second.valid, second.error
    assert first.choice in ("A", "B")
    assert first.reasoning == "mock reasoning."
    bodies = [r["body"] for r in mock_llm.state.requests]
    # A rejected json_schema try, a rejected json_object try, then plain text, remembered for the next call.
    assert [b.get("response_format", {}).get("type") for b in bodies] == ["json_schema", "json_object", None, None]
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "text"
    assert "Answer: <option>" in bodies[-1]["messages"][-1]["content"]
    assert bodies[-1]["messages"][-1]["content"].startswith("Q2")  # one user turn: question, then instructions


def test_plain_text_request_and_sampling_params(make_endpoint, mock_llm):
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url, params={"temperature": 0.0, "seed": 7})
    completion = llm_complete(endpoint=endpoint, request=text_request())
    assert completion.text == "Mock reply."
    body = mock_llm.state.requests[-1]["body"]
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.0, 7, endpoint.max_tokens)


def test_cached_prompt_tokens_are_priced_as_cache_reads(openai_endpoint):
    llm_complete(endpoint=openai_endpoint, request=ab_request("Q1", cache_prefix=PERSONA))
    second = llm_complete(endpoint=openai_endpoint, request=ab_request("Q2", cache_prefix=PERSONA))
    assert second.usage.cache_read_tokens > 1000
    assert second.usage.input_tokens < 100  # the prompt minus the cached part


@pytest.mark.parametrize("fault", ["429", "500", "529"])
def test_transient_errors_are_retried(openai_endpoint, mock_llm, fault):
    mock_llm.enqueue(fault)
    assert llm_complete(endpoint=openai_endpoint, request=ab_request()).valid
    assert mock_llm.state.stats["/v1/chat/completions"] == 2


@pytest.mark.parametrize("fault", ["401", "404"])
def test_permanent_errors_fail_at_once(openai_endpoint, mock_llm, fault):
    mock_llm.enqueue(fault)
    with pytest.raises(LLMError) as caught:
        llm_complete(endpoint=openai_endpoint, request=text_request())
    assert not caught.value.transient
    assert mock_llm.state.stats["/v1/chat/completions"] == 1


def test_a_bad_request_is_not_mistaken_for_missing_json_schema_support(openai_endpoint, mock_llm):
    mock_llm.enqueue("400")
    with pytest.raises(LLMError) as caught:
        llm_complete(endpoint=openai_endpoint, request=ab_request())
    assert caught.value.status_code == 400
    # The error does not name response_format: no fallback was tried, json_schema is still assumed to work.
    assert mock_llm.state.stats["/v1/chat/completions"] == 1
    openai_endpoint.refresh_from_db()
    assert openai_endpoint.structured_output == "json_schema"
    assert llm_complete(endpoint=openai_endpoint, request=ab_request()).valid
    assert "response_format" in mock_llm.state.requests[-1]["body"]


def test_a_hang_times_out_and_is_retried(make_endpoint, mock_llm):
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url, timeout_seconds=0.3)
    mock_llm.config.hang_seconds = 1.0
    mock_llm.enqueue("hang")
    assert llm_complete(endpoint=endpoint, request=ab_request()).valid


@pytest.mark.parametrize(("fault", "error"), [("malformed", "malformed response"), ("offformat", "not one of")])
def test_unusable_replies_are_invalid(openai_endpoint, mock_llm, fault, error):
    mock_llm.enqueue(fault)
    completion = llm_complete(endpoint=openai_endpoint, request=ab_request())
    assert not completion.valid
    assert error in completion.error
    assert completion.raw
