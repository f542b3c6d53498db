"""Structured replies of named fields (ObjectSchema): Anthropic forced tool, OpenAI json_schema, plain-text fallback,
offline providers, and replies that do not fit counted as invalid."""

from __future__ import annotations

import pytest

from core.llm.parsing import apply_fields, object_json_schema, parse_fields_text
from core.llm.service import llm_complete
from core.llm.types import Completion, LLMRequest, Message, ObjectSchema, OutputField

SCHEMA = ObjectSchema(
    fields=(
        OutputField("reasoning", "Why."),
        OutputField("needs_revision", "Revise?", kind="boolean"),
        OutputField("dropped", "Left out.", kind="list", enum=("Age", "Income (USD per year)", "Religion")),
    ),
    name="critique",
)


def _request(question: str = "<answer>\nA plain answer.\n</answer>") -> LLMRequest:
    return LLMRequest(
        system="Review.",
        cache_prefix="The person:\nAge: 41\nReligion: Catholic",
        messages=(Message("user", question),),
        output=SCHEMA,
        key="fields",
    )


def test_schema_lists_every_field_required() -> None:
    schema = object_json_schema(SCHEMA)
    assert schema["required"] == ["reasoning", "needs_revision", "dropped"]
    assert schema["properties"]["needs_revision"]["type"] == "boolean"
    assert schema["properties"]["dropped"]["items"]["enum"] == ["Age", "Income (USD per year)", "Religion"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("not a dict", "not an object"),
        ({"reasoning": "x", "needs_revision": "maybe", "dropped": []}, "not true or false"),
        ({"reasoning": 3, "needs_revision": True, "dropped": []}, "'reasoning' is missing or not a string"),
        ({"reasoning": "x", "needs_revision": True, "dropped": ["Star sign"]}, "values not allowed"),
        ({"reasoning": "x", "needs_revision": True}, "'dropped' is not a list"),
    ],
)
def test_replies_that_do_not_fit_are_invalid(answer: object, error: str) -> None:
    completion = apply_fields(Completion(text=""), SCHEMA, answer)
    assert not completion.valid
    assert error in completion.error


def test_plain_text_reply_is_read_from_its_json_object() -> None:
    text = 'Sure:\n{"reasoning": "ok", "needs_revision": "false", "dropped": ["Age"]}\nDone.'
    completion = parse_fields_text(Completion(text=text), SCHEMA)
    assert completion.valid, completion.error
    assert completion.fields == {"reasoning": "ok", "needs_revision": False, "dropped": ["Age"]}
    assert not parse_fields_text(Completion(text="no json here"), SCHEMA).valid


def test_anthropic_forces_the_tool(anthropic_endpoint, mock_llm) -> None:
    completion = llm_complete(endpoint=anthropic_endpoint, request=_request())
    assert completion.valid, completion.error
    assert set(completion.fields) == {"reasoning", "needs_revision", "dropped"}
    assert isinstance(completion.fields["needs_revision"], bool)
    body = mock_llm.state.requests[-1]["body"]
    assert body["tool_choice"] == {"type": "tool", "name": "critique"}


def test_anthropic_offformat_reply_is_invalid(anthropic_endpoint, mock_llm) -> None:
    mock_llm.enqueue("offformat")
    completion = llm_complete(endpoint=anthropic_endpoint, request=_request())
    assert not completion.valid
    assert "unparseable" in completion.error


@pytest.mark.parametrize("reject_schema", [False, True])
def test_openai_json_schema_and_plain_text_fallback(make_endpoint, mock_llm, reject_schema: bool) -> None:
    mock_llm.config.reject_json_schema = reject_schema
    endpoint = make_endpoint("openai_compatible", base_url=mock_llm.openai_url)
    completion = llm_complete(endpoint=endpoint, request=_request())
    assert completion.valid, completion.error
    assert all(item in SCHEMA.fields[2].enum for item in completion.fields["dropped"])
    body = mock_llm.state.requests[-1]["body"]
    if reject_schema:
        assert "Reply with only a JSON object" in body["messages"][-1]["content"]
    else:
        assert body["response_format"]["json_schema"]["name"] == "critique"


def test_offline_persona_overlap_reads_the_answer_and_summary(make_endpoint) -> None:
    endpoint = make_endpoint("offline", model="persona_overlap")
    plain = llm_complete(endpoint=endpoint, request=_request())
    assert plain.valid
    assert set(plain.fields) == {"reasoning", "needs_revision", "dropped"}
    # The summary (here, the whole message) mentions the age but not the religion: only Religion is dropped.
    summary = llm_complete(endpoint=endpoint, request=_request("<summary>\nAged 41.\n</summary>"))
    assert summary.fields["dropped"] == ["Religion"]
    # An answer naming every persona value never needs revision (the seeded threshold is at most 3).
    answer = llm_complete(endpoint=endpoint, request=_request("<answer>\n41, Catholic, 41 Catholic.\n</answer>"))
    assert answer.fields["needs_revision"] is False


def test_offline_text_fields_lean_on_the_persona(make_endpoint) -> None:
    endpoint = make_endpoint("offline", model="text")
    request = LLMRequest(
        system="Answer.",
        cache_prefix="The person asking:\nReligion: Catholic",
        messages=(Message("user", "Q?"),),
        output=ObjectSchema(fields=(OutputField("answer", "The answer."),)),
    )
    completion = llm_complete(endpoint=endpoint, request=request)
    assert "Catholic" in completion.fields["answer"]
    assert completion.fields["answer"].startswith("[offline text]")
