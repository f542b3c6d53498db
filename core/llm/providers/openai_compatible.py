"""OpenAI, vLLM, Ollama, llama.cpp and any other chat-completions server, through the official ``openai`` SDK.

Choices and fields are asked for the way the endpoint's ``structured_output`` says: ``json_schema`` (OpenAI
structured outputs, vLLM guided decoding, Ollama formats), ``json_object`` with the schema (llama.cpp's grammar),
a forced ``tools`` call, or ``text`` (instructions in the prompt, the answer parsed from the reply). A server that
rejects the mode (any 4xx/5xx naming ``response_format`` / ``json_schema``) is asked once more, one mode down
(json_schema → json_object → text); when that works the provider keeps the lower mode and ``core.llm.service``
stores it on the endpoint, so the next process starts there.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import openai

from core.llm.faults import rejects_structured_output, sdk_error
from core.llm.models import STRUCTURED_OUTPUT_DOWNGRADES, StructuredOutput
from core.llm.parsing import (
    apply_choice,
    apply_fields,
    check_reply,
    choice_json_schema,
    object_json_schema,
    parse_choice_text,
    parse_fields_text,
    plain_object_instruction,
    plain_text_instruction,
)
from core.llm.providers.pool import ClientPool, shared_ssl_context
from core.llm.types import Completion, LLMError, LLMRequest, Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from core.llm.models import ModelEndpoint

logger = logging.getLogger(__name__)


class OpenAICompatibleProvider:
    def __init__(self, endpoint: ModelEndpoint, *, api_key: str | None) -> None:
        self.endpoint = endpoint
        self.clients = ClientPool(
            lambda: openai.OpenAI(
                api_key=api_key or "not-needed",  # local servers ignore it, the SDK insists on one
                base_url=endpoint.base_url or None,
                max_retries=0,
                timeout=endpoint.timeout_seconds,
                http_client=openai.DefaultHttpxClient(verify=shared_ssl_context()),
            )
        )
        # The structured-output mode in use: the endpoint's, until the server rejects it (then one step down).
        self.structured_output: str = str(endpoint.structured_output or StructuredOutput.JSON_SCHEMA.value)
        self._mode_lock = threading.Lock()
        self.last_rejection = ""  # the server's words when it last rejected a mode (llm_check prints them)

    def params(self, request: LLMRequest, *, mode: str) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        # Instructions, then the shared prefix: servers with automatic prefix caching (OpenAI, vLLM) reuse both.
        system = "\n\n".join(part for part in (request.system, request.cache_prefix) if part)
        if system:
            messages.append({"role": "system", "content": system})
        messages.extend({"role": m.role, "content": m.content} for m in request.messages)
        params: dict[str, Any] = {
            **self.endpoint.params,
            "model": self.endpoint.model,
            "max_tokens": request.max_tokens or self.endpoint.max_tokens,
            "messages": messages,
        }
        if request.choice is not None:
            name, description = request.choice.name, request.choice.description
            json_schema, instruction = choice_json_schema(request.choice), plain_text_instruction(request.choice)
        elif request.output is not None:
            name, description = request.output.name, request.output.description
            json_schema, instruction = object_json_schema(request.output), plain_object_instruction(request.output)
        else:
            return params
        if mode == StructuredOutput.JSON_SCHEMA:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": json_schema},
            }
        elif mode == StructuredOutput.JSON_OBJECT:
            # llama.cpp (and llama-cpp-python) turn the schema into a grammar; servers that ignore it still reply JSON.
            params["response_format"] = {"type": "json_object", "schema": json_schema}
        elif mode == StructuredOutput.TOOLS:
            params["tools"] = [
                {"type": "function", "function": {"name": name, "description": description, "parameters": json_schema}}
            ]
            params["tool_choice"] = {"type": "function", "function": {"name": name}}
        # Into the last user turn rather than a turn of its own: some chat templates insist on alternating roles.
        elif messages and messages[-1]["role"] == "user":
            messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n\n{instruction}"}
        else:
            messages.append({"role": "user", "content": instruction})
        return params

    def complete(self, request: LLMRequest) -> Completion:
        asks_structure = request.choice is not None or request.output is not None
        mode = self.structured_output if asks_structure else StructuredOutput.TEXT.value
        rejected: LLMError | None = None
        while True:
            try:
                completion = self._complete(request, mode=mode)
            except LLMError as error:
                lower = STRUCTURED_OUTPUT_DOWNGRADES.get(mode)
                if lower is None or not rejects_structured_output(error):
                    raise
                # The server cannot do this mode: asking again the same way would get the same answer, so this
                # is not retried as transient; the next mode down is tried at once.
                rejected = error
                self.last_rejection = f"{mode}: {error}"[:500]
                mode = lower
                continue
            if rejected is not None:
                self._downgrade(to=mode, because=rejected)
            return completion

    def _downgrade(self, *, to: str, because: LLMError) -> None:
        with self._mode_lock:
            was = self.structured_output
            if STRUCTURED_OUTPUT_DOWNGRADES.get(was) is None or was == to:
                return
            self.structured_output = to
        logger.warning(
            "%s: the server rejected structured output %s (%s); using %s from now on",
            self.endpoint.name,
            was,
            str(because)[:300],
            to,
        )

    def _complete(self, request: LLMRequest, *, mode: str) -> Completion:
        started = time.monotonic()
        try:
            with self.clients.client() as client:
                response = client.chat.completions.with_raw_response.create(**self.params(request, mode=mode))
        except openai.APIError as exc:
            raise sdk_error(exc) from exc
        body = response.http_response.text
        try:
            reply = response.parse()
        except (ValueError, TypeError, openai.APIResponseValidationError) as exc:
            return Completion.malformed(raw=body, error=exc, model=self.endpoint.model)
        return self.completion(reply, request, raw=body, latency=time.monotonic() - started)

    def completion(self, reply: ChatCompletion, request: LLMRequest, *, raw: str, latency: float) -> Completion:
        usage = Usage()
        if reply.usage is not None:
            details = reply.usage.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details is not None else 0
            # OpenAI counts cached tokens inside prompt_tokens; we keep them apart to price them apart.
            usage = Usage(
                input_tokens=reply.usage.prompt_tokens - cached,
                output_tokens=reply.usage.completion_tokens,
                cache_read_tokens=cached,
            )
        if not reply.choices:
            return Completion(text="", valid=False, raw=raw, usage=usage, error="the reply has no choices")
        choice = reply.choices[0]
        completion = Completion(
            text=choice.message.content or "",
            raw=raw,
            usage=usage,
            cost_usd=self.endpoint.cost(usage),
            latency_s=latency,
            model=reply.model or self.endpoint.model,
            stop_reason=choice.finish_reason or "",
        )
        if getattr(choice.message, "refusal", None) or choice.finish_reason == "content_filter":
            completion.valid = False
            completion.error = "the model refused to answer"
            return completion
        if request.choice is None and request.output is None:
            return completion
        max_tokens = request.max_tokens or self.endpoint.max_tokens
        return check_reply(self._parse(completion, choice, request), request, max_tokens=max_tokens)

    @staticmethod
    def _parse(completion: Completion, choice: Any, request: LLMRequest) -> Completion:
        arguments = next(
            (call.function.arguments for call in choice.message.tool_calls or () if getattr(call, "function", None)),
            None,
        )
        answer: Any = None
        if arguments is not None:
            try:
                answer = json.loads(arguments)
            except ValueError:
                answer = None
            completion.text = completion.text or arguments
        if request.choice is not None:
            if isinstance(answer, dict):
                return apply_choice(completion, request.choice, answer)
            return parse_choice_text(completion, request.choice)
        assert request.output is not None
        if isinstance(answer, dict):
            return apply_fields(completion, request.output, answer)
        return parse_fields_text(completion, request.output)
