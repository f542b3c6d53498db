"""A llama.cpp server (llama-cpp-python 0.3's OpenAI-compatible server running Gemma 3 270M, the kind of small local
model people point the lab at), imitated by the mock and reached through the real ``openai`` SDK: structured output
negotiated down, replies cut off at max_tokens, echoed instructions, a chat template that drops the system message
and a 4k context."""

from __future__ import annotations

import logging

import pytest
from django.core.management import CommandError, call_command

from core.llm import LLMError
from core.llm.service import llm_complete, llm_complete_many
from core.llm.types import ObjectSchema, OutputField
from tests.core.llm.requests import PERSONA, ab_request, text_request
from tests.llm_mock import MockLLMServer


@pytest.fixture
def llama() -> MockLLMServer:
    with MockLLMServer(llama_cpp=True) as server:
        yield server


def _formats(mock: MockLLMServer) -> list[str | None]:
    return [(r["body"].get("response_format") or {}).get("type") for r in mock.state.requests]


FIELDS = ObjectSchema(fields=(OutputField("answer", "The answer."), OutputField("sure", "Sure?", kind="boolean")))


def test_a_500_naming_response_format_falls_back_at_once_and_is_remembered(make_endpoint, llama, caplog):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, max_attempts=6)

    with caplog.at_level(logging.WARNING):
        first = llm_complete(endpoint=endpoint, request=ab_request("Q1"))
    second = llm_complete(endpoint=endpoint, request=ab_request("Q2"))

    assert first.valid, first.error
    assert second.valid, second.error
    # One json_schema try answered with a 500 (not retried as transient), then json_object with the schema.
    assert _formats(llama) == ["json_schema", "json_object", "json_object"]
    assert llama.state.requests[1]["body"]["response_format"]["schema"]["properties"]["choice"]["enum"] == ["A", "B"]
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "json_object"
    assert "Input should be 'text' or 'json_object'" in caplog.text
    assert "downgraded from json_schema to json_object" in caplog.text


def test_a_fresh_process_starts_in_the_stored_mode(make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, structured_output="json_object")
    completions = llm_complete_many(endpoint=endpoint, requests=[ab_request(f"Q{i}") for i in range(4)])
    assert all(c.valid for c in completions)
    assert _formats(llama) == ["json_object"] * 4  # 4/4 valid, grammar-constrained, nothing rejected


def test_json_object_with_the_schema_fills_fields(make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, structured_output="json_object")
    request = text_request()
    completion = llm_complete(endpoint=endpoint, request=type(request)(**{**request.__dict__, "output": FIELDS}))
    assert completion.valid, completion.error
    assert set(completion.fields) == {"answer", "sure"}


def test_a_downgrade_during_many_calls_is_stored_once(make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, concurrency=4)
    completions = llm_complete_many(endpoint=endpoint, requests=[ab_request(f"Q{i}") for i in range(8)])
    assert all(c.valid for c in completions)
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "json_object"


@pytest.mark.parametrize("mode", ["tools", "text"])
def test_tools_and_text_modes(make_endpoint, mock_llm, mode):
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url, structured_output=mode)
    completion = llm_complete(endpoint=endpoint, request=ab_request())
    assert completion.valid, completion.error
    assert completion.choice in ("A", "B")
    body = mock_llm.state.requests[-1]["body"]
    assert "response_format" not in body
    if mode == "tools":
        assert body["tool_choice"] == {"type": "function", "function": {"name": "answer"}}
        assert completion.stop_reason == "tool_calls"
    else:
        assert "Answer: <option>" in body["messages"][-1]["content"]


def test_an_error_not_about_response_format_is_not_a_fallback(make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, max_attempts=2)
    llama.enqueue("500", "500")
    with pytest.raises(LLMError) as caught:
        llm_complete(endpoint=endpoint, request=ab_request())
    assert caught.value.transient
    assert _formats(llama) == ["json_schema", "json_schema"]  # retried as transient, never downgraded
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "json_schema"


def test_a_reply_cut_off_at_max_tokens_says_so(make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, structured_output="text", max_tokens=64)
    completion = llm_complete(endpoint=endpoint, request=ab_request("[[mock:echo]] Which?"))
    assert not completion.valid
    assert completion.stop_reason == "length"
    assert completion.cut_off
    assert completion.error == "cut off at max_tokens=64 — raise the endpoint's max_tokens"


@pytest.mark.parametrize("mode", ["text", "json_object"])
def test_judge_reasoning_that_echoes_the_instructions_is_invalid(make_endpoint, llama, mode):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url, structured_output=mode)
    request = ab_request("[[mock:echo_reasoning]] Which?")
    completion = llm_complete(endpoint=endpoint, request=type(request)(**{**request.__dict__, "system": JUDGE}))
    assert not completion.valid
    assert completion.choice is None
    assert "reproduces the instructions" in completion.error


JUDGE = (
    "You are the person described below. Read the question and the two answers, then say which answer you would "
    "prefer and why, in one or two sentences of your own."
)


def test_llm_check_on_a_llama_cpp_server_with_a_4k_context(make_endpoint, capsys):
    with MockLLMServer(llama_cpp=True, context_window=4096) as server:
        endpoint = make_endpoint("openai_compatible", base_url=server.openai_url)
        call_command("llm_check", endpoint.name)
        out = capsys.readouterr().out
        prompts = [r["body"] for r in server.state.requests]
    endpoint.refresh_from_db()
    assert f"base URL:   {server.openai_url}" in out
    assert "structured: json_object (stored; rejected, last json_schema: HTTP 500" in out
    assert "system msg: kept" in out
    assert "context window 4096 tokens, from the server's error, stored" in out
    assert "caching:    yes" in out
    assert (endpoint.structured_output, endpoint.context_window) == ("json_object", 4096)
    # The full prefix was refused once (the server's 400), the resized one fitted.
    assert len(prompts[-1]["messages"][0]["content"]) < len(prompts[-3]["messages"][0]["content"])


def test_llm_check_with_a_known_small_context_skips_caching_and_says_why(make_endpoint, capsys):
    with MockLLMServer(llama_cpp=True, context_window=1024) as server:
        endpoint = make_endpoint("openai_compatible", base_url=server.openai_url, context_window=1024)
        call_command("llm_check", endpoint.name)
    out = capsys.readouterr().out
    assert "caching:    not checked: the context window (1024 tokens) is too small" in out


def test_llm_check_warns_when_the_chat_template_drops_the_system_message(make_endpoint, capsys):
    with MockLLMServer(llama_cpp=True, drop_system=True) as server:
        endpoint = make_endpoint("openai_compatible", base_url=server.openai_url)
        call_command("llm_check", endpoint.name, "--no-cache-check")
    out = capsys.readouterr().out
    assert "system msg: DROPPED" in out
    assert "WARNING: The server drops the system message" in out
    assert "folds the system message into the first user turn" in out
    assert "OK, with 1 warning(s) above" in out


def test_llm_check_prints_the_base_url_and_the_real_error(make_endpoint):
    with MockLLMServer() as server:
        endpoint = make_endpoint("openai_compatible", base_url=server.openai_url)
        server.enqueue("401")
        with pytest.raises(CommandError) as caught:
            call_command("llm_check", endpoint.name)
    assert server.openai_url in str(caught.value)
    assert "permanent: HTTP 401" in str(caught.value)
    assert "mock authentication_error" in str(caught.value)


def test_llm_check_can_keep_the_coordinators_mode(make_endpoint, llama, capsys):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url)
    call_command("llm_endpoint", endpoint.name, "--structured-output=text")
    call_command("llm_check", endpoint.name, "--no-cache-check", "--keep-structured-output")
    assert "structured: text (the stored mode)" in capsys.readouterr().out
    assert _formats(llama)[0] is None
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "text"


def test_structured_output_is_an_admin_field(admin_client, make_endpoint, llama):
    endpoint = make_endpoint("openai_compatible", base_url=llama.openai_url)
    page = admin_client.get(f"/admin/core/modelendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert b'name="structured_output"' in page.content
    assert b'name="context_window"' in page.content


def test_judge_reasoning_that_echoes_the_instructions_and_persona_is_invalid(make_endpoint, llama):
    endpoint = make_endpoint(
        "openai_compatible", base_url=llama.openai_url, structured_output="json_object", max_tokens=4000
    )
    request = ab_request("[[mock:echo_reasoning]] Which?", cache_prefix=PERSONA)
    completion = llm_complete(endpoint=endpoint, request=type(request)(**{**request.__dict__, "system": JUDGE}))
    assert not completion.valid
    assert "reproduces the instructions" in completion.error
