"""Turning a model's reply into a choice: from a structured object (tool input, JSON) or from plain text.

Everything here treats the reply as untrusted text: it is matched against the legal options and stored verbatim as
``raw``; nothing is ever marked safe for HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.llm.echo import echoes_instructions
from core.llm.types import ChoiceSchema, Completion, LLMRequest, ObjectSchema

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def choice_json_schema(schema: ChoiceSchema) -> dict[str, Any]:
    """The JSON schema of a structured answer: reasoning first (so the model thinks before it picks), then choice."""
    properties: dict[str, Any] = {}
    if schema.with_reasoning:
        properties["reasoning"] = {"type": "string", "description": "Brief reasons for the choice."}
    properties["choice"] = {"type": "string", "enum": list(schema.legal), "description": schema.description}
    if schema.with_confidence:
        properties["confidence"] = {"type": "integer", "minimum": 0, "maximum": 100}
    return _closed_object(properties)


def _closed_object(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema object that needs every one of ``properties`` and allows no other key."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def plain_text_instruction(schema: ChoiceSchema) -> str:
    """What to append to the prompt when the server cannot constrain the output to the schema."""
    legal = ", ".join(schema.legal)
    lines = [f"{schema.description} Reply with exactly one of: {legal}."]
    if schema.with_reasoning:
        lines.append("First give your reasons on one line starting 'Reasoning:'.")
    if schema.with_confidence:
        lines.append("Then a line 'Confidence: N' with N from 0 to 100.")
    lines.append("End with a line 'Answer: <option>'.")
    return "\n".join(lines)


def apply_choice(completion: Completion, schema: ChoiceSchema, answer: Any) -> Completion:
    """Fill ``completion`` from a structured ``answer`` (a dict), or mark it invalid when it does not fit."""
    if not isinstance(answer, dict):
        return _invalid(completion, "the structured answer is not an object")
    choice = answer.get("choice")
    if not isinstance(choice, str) or choice.strip() not in schema.legal:
        return _invalid(completion, f"choice {choice!r} is not one of {', '.join(schema.legal)}")
    completion.choice = choice.strip()
    reasoning = answer.get("reasoning")
    completion.reasoning = reasoning if isinstance(reasoning, str) else ""
    completion.confidence = _confidence(answer.get("confidence")) if schema.with_confidence else None
    return completion


def parse_choice_text(completion: Completion, schema: ChoiceSchema) -> Completion:
    """Find the choice in free text: a JSON object if there is one, else an 'Answer: X' line, else a lone option."""
    text = completion.text.strip()
    if match := _JSON_OBJECT.search(text):
        try:
            answer = json.loads(match.group(0))
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "choice" in answer:
            return apply_choice(completion, schema, answer)
    legal = sorted(schema.legal, key=len, reverse=True)
    alternatives = "|".join(re.escape(option) for option in legal)
    answer_line = re.findall(rf"(?im)^\W*(?:final\s+)?answer\W*[:\-]\s*\W*({alternatives})\b", text)
    lone = re.fullmatch(rf"\W*({alternatives})\W*", text, flags=re.IGNORECASE)
    found = answer_line[-1] if answer_line else (lone.group(1) if lone else None)
    if found is None:
        return _invalid(completion, "no option found in the reply")
    completion.choice = next(option for option in schema.legal if option.lower() == found.lower())
    if reason := re.search(r"(?im)^\W*reasoning\W*[:\-]\s*(.+)$", text):
        completion.reasoning = reason.group(1).strip()
    if schema.with_confidence and (conf := re.search(r"(?im)^\W*confidence\W*[:\-]\s*(\d{1,3})", text)):
        completion.confidence = _confidence(int(conf.group(1)))
    return completion


def object_json_schema(schema: ObjectSchema) -> dict[str, Any]:
    """The JSON schema of a structured reply of named fields, all required, in the order given."""
    properties: dict[str, Any] = {}
    for item in schema.fields:
        if item.kind == "boolean":
            properties[item.name] = {"type": "boolean", "description": item.description}
        elif item.kind == "list":
            items: dict[str, Any] = {"type": "string"}
            if item.enum:
                items["enum"] = list(item.enum)
            properties[item.name] = {"type": "array", "items": items, "description": item.description}
        else:
            properties[item.name] = {"type": "string", "description": item.description}
    return _closed_object(properties)


def plain_object_instruction(schema: ObjectSchema) -> str:
    """What to append to the prompt when the server cannot constrain the output to the object's schema."""
    lines = [f"{schema.description} Reply with only a JSON object with these keys:"]
    for item in schema.fields:
        kind = {"boolean": "true or false", "list": "a list of strings"}.get(item.kind, "a string")
        allowed = f" (from: {', '.join(item.enum)})" if item.kind == "list" and item.enum else ""
        lines.append(f'- "{item.name}": {kind}{allowed}. {item.description}')
    return "\n".join(lines)


def apply_fields(completion: Completion, schema: ObjectSchema, answer: Any) -> Completion:
    """Fill ``completion.fields`` from a structured ``answer`` (a dict), or mark it invalid when it does not fit."""
    if not isinstance(answer, dict):
        return _invalid(completion, "the structured answer is not an object")
    values: dict[str, Any] = {}
    for item in schema.fields:
        value = answer.get(item.name)
        if item.kind == "boolean":
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                value = value.strip().lower() == "true"
            if not isinstance(value, bool):
                return _invalid(completion, f"field {item.name!r} is not true or false: {value!r}"[:300])
        elif item.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _invalid(completion, f"field {item.name!r} is not a list of strings"[:300])
            if item.enum and (unknown := [v for v in value if v not in item.enum]):
                return _invalid(completion, f"field {item.name!r} has values not allowed: {unknown[:5]!r}"[:300])
        elif not isinstance(value, str):
            return _invalid(completion, f"field {item.name!r} is missing or not a string"[:300])
        values[item.name] = value
    completion.fields = values
    return completion


def parse_fields_text(completion: Completion, schema: ObjectSchema) -> Completion:
    """Read a structured reply from free text: the outermost JSON object in it."""
    match = _JSON_OBJECT.search(completion.text.strip())
    if not match:
        return _invalid(completion, "no JSON object found in the reply")
    try:
        answer = json.loads(match.group(0))
    except ValueError as exc:
        return _invalid(completion, f"the JSON object does not parse: {exc}"[:300])
    return apply_fields(completion, schema, answer)


def check_reply(completion: Completion, request: LLMRequest, *, max_tokens: int) -> Completion:
    """The checks every provider runs on a parsed structured reply, after the parsing itself.

    - A reply that could not be parsed because it was cut off at ``max_tokens`` says so (the fix is the endpoint's
      ``max_tokens``, not the prompt), instead of "no option found".
    - A judge whose reasoning reproduces its own instructions (a small model repeating the system prompt, persona
      included) gave no answer, whatever option it ended on: invalid, like an empty reply.
    """
    if not completion.valid:
        if completion.cut_off:
            completion.error = f"cut off at max_tokens={max_tokens} — raise the endpoint's max_tokens"
        return completion
    if request.choice is not None and completion.reasoning:
        # The whole system prompt as the model got it (instructions, then the persona): a small model repeats it all.
        prompt = (request.system, request.cache_prefix or "", plain_text_instruction(request.choice))
        instructions = "\n".join(prompt)
        if echoes_instructions(completion.reasoning, instructions):
            return _invalid(completion, "the reasoning reproduces the instructions (an echo, not an answer)")
    return completion


def _confidence(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0, min(100, round(value)))


def _invalid(completion: Completion, why: str) -> Completion:
    completion.valid = False
    completion.choice = None
    completion.error = f"unparseable answer: {why}"
    return completion
