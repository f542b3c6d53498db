"""OpenAI, vLLM, Ollama and any other chat-completions server, through the official ``openai`` SDK and ``base_url``.

Choices ask for ``response_format: json_schema`` (OpenAI structured outputs, vLLM guided decoding, Ollama formats);
a server that rejects it is remembered and asked in plain text instead, with the answer parsed from the reply.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import openai

from core.llm.faults import sdk_error
from core.llm.parsing import (
    choice_json_schema,
    object_json_schema,
    parse_choice_text,
    parse_fields_text,
    plain_object_instruction,
    plain_text_instruction,
)
from core.llm.providers.pool import ClientPool, shared_ssl_context
from core.llm.types import Completion, LLMRequest, Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from core.llm.models import ModelEndpoint


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
        # None until the server has answered a json_schema request one way or the other.
        self.json_schema_supported: bool | None = None

    def params(self, request: LLMRequest, *, structured: bool) -> dict[str, Any]:
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
            name, json_schema = request.choice.name, choice_json_schema(request.choice)
            instruction = plain_text_instruction(request.choice)
        elif request.output is not None:
            name, json_schema = request.output.name, object_json_schema(request.output)
            instruction = plain_object_instruction(request.output)
        else:
            return params
        if structured:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": json_schema},
            }
        # Into the last user turn rather than a turn of its own: some chat templates insist on alternating roles.
        elif messages and messages[-1]["role"] == "user":
            messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n\n{instruction}"}
        else:
            messages.append({"role": "user", "content": instruction})
        return params

    def complete(self, request: LLMRequest) -> Completion:
        asks_structure = request.choice is not None or request.output is not None
        structured = asks_structure and self.json_schema_supported is not False
        started = time.monotonic()
        try:
            with self.clients.client() as client:
                response = client.chat.completions.with_raw_response.create(
                    **self.params(request, structured=structured)
                )
        except openai.BadRequestError as exc:
            if not structured or self.json_schema_supported:
                raise sdk_error(exc) from exc
            # Perhaps the server cannot do json_schema: ask once in plain text; if that works, remember it.
            self.json_schema_supported = False
            try:
                return self.complete(request)
            except Exception:
                self.json_schema_supported = None
                raise
        except openai.APIError as exc:
            raise sdk_error(exc) from exc
        body = response.http_response.text
        try:
            reply = response.parse()
        except (ValueError, TypeError, openai.APIResponseValidationError) as exc:
            return Completion.malformed(raw=body, error=exc, model=self.endpoint.model)
        if structured:
            self.json_schema_supported = True
        return self.completion(reply, request, raw=body, latency=time.monotonic() - started, structured=structured)

    def completion(
        self, reply: ChatCompletion, request: LLMRequest, *, raw: str, latency: float, structured: bool
    ) -> Completion:
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
        if request.choice is not None:
            return parse_choice_text(completion, request.choice)
        if request.output is not None:
            return parse_fields_text(completion, request.output)
        return completion
