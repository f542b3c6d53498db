"""Claude through the official ``anthropic`` SDK: forced-tool choices, prompt caching and the Message Batches API."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anthropic

from core.llm.faults import sdk_error, with_retries
from core.llm.parsing import (
    apply_choice,
    apply_fields,
    check_reply,
    choice_json_schema,
    object_json_schema,
    parse_choice_text,
    parse_fields_text,
)
from core.llm.providers.pool import ClientPool, shared_ssl_context
from core.llm.types import Completion, LLMError, LLMRequest, Usage

if TYPE_CHECKING:
    from anthropic.types import Message as AnthropicMessage

    from core.llm.models import ModelEndpoint

# Anthropic accepts up to 100,000 requests / 256 MB per batch; we stay well inside both.
BATCH_MAX_REQUESTS = 10_000
BATCH_MAX_BYTES = 128 * 1024 * 1024
BATCH_POLL_SECONDS = 5.0
BATCH_POLL_CAP_SECONDS = 60.0


class AnthropicProvider:
    def __init__(self, endpoint: ModelEndpoint, *, api_key: str | None) -> None:
        self.endpoint = endpoint
        self.clients = ClientPool(
            lambda: anthropic.Anthropic(
                api_key=api_key or "not-needed",
                base_url=endpoint.base_url or None,
                max_retries=0,  # core.llm retries, so every attempt passes the rate limiter
                timeout=endpoint.timeout_seconds,
                # The SDK's OpenTelemetry spans cost CPU on every call; LLMCall rows are our trace.
                open_telemetry=False,
                http_client=anthropic.DefaultHttpxClient(verify=shared_ssl_context()),
            )
        )

    def params(self, request: LLMRequest) -> dict[str, Any]:
        """The Messages API body. The cache breakpoint closes the shared part: tools + system + cache_prefix.

        A run keeps ``system`` (the instructions) the same and varies ``cache_prefix`` (the persona) slowly, so the
        cached prefix is as long as it can be, which also helps it reach Claude's minimum cacheable length.
        """
        system: list[dict[str, Any]] = []
        if request.system:
            system.append({"type": "text", "text": request.system})
        if request.cache_prefix:
            system.append({"type": "text", "text": request.cache_prefix, "cache_control": {"type": "ephemeral"}})
        params: dict[str, Any] = {
            **self.endpoint.params,
            "model": self.endpoint.model,
            "max_tokens": request.max_tokens or self.endpoint.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if system:
            params["system"] = system
        if request.choice is not None:
            schema = request.choice
            params["tools"] = [
                {"name": schema.name, "description": schema.description, "input_schema": choice_json_schema(schema)}
            ]
            params["tool_choice"] = {"type": "tool", "name": schema.name}
        elif request.output is not None:
            output = request.output
            params["tools"] = [
                {"name": output.name, "description": output.description, "input_schema": object_json_schema(output)}
            ]
            params["tool_choice"] = {"type": "tool", "name": output.name}
        return params

    def complete(self, request: LLMRequest) -> Completion:
        started = time.monotonic()
        try:
            with self.clients.client() as client:
                response = client.messages.with_raw_response.create(**self.params(request))
            body = response.http_response.text
            try:
                message = response.parse()
            except (ValueError, TypeError, anthropic.APIResponseValidationError) as exc:
                return Completion.malformed(raw=body, error=exc, model=self.endpoint.model)
        except anthropic.APIError as exc:
            raise sdk_error(exc) from exc
        return self.completion(message, request, raw=body, latency=time.monotonic() - started, batch=False)

    def completion(
        self, message: AnthropicMessage, request: LLMRequest, *, raw: str, latency: float, batch: bool
    ) -> Completion:
        usage = Usage(
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            cache_read_tokens=message.usage.cache_read_input_tokens or 0,
            cache_write_tokens=message.usage.cache_creation_input_tokens or 0,
        )
        text = "".join(block.text for block in message.content if block.type == "text")
        completion = Completion(
            text=text,
            raw=raw,
            usage=usage,
            cost_usd=self.endpoint.cost(usage, batch=batch),
            latency_s=latency,
            model=message.model,
            stop_reason=message.stop_reason or "",
        )
        if message.stop_reason == "refusal":
            completion.valid = False
            completion.error = "the model refused to answer"
            return completion
        if request.choice is None and request.output is None:
            return completion
        max_tokens = request.max_tokens or self.endpoint.max_tokens
        return check_reply(self._parse(completion, message, request), request, max_tokens=max_tokens)

    @staticmethod
    def _parse(completion: Completion, message: AnthropicMessage, request: LLMRequest) -> Completion:
        tool_input = next((b.input for b in message.content if b.type == "tool_use"), None)
        if request.output is not None:
            if tool_input is None:
                return parse_fields_text(completion, request.output)
            completion.text = completion.text or json.dumps(tool_input)
            return apply_fields(completion, request.output, tool_input)
        assert request.choice is not None
        if tool_input is not None:
            completion.text = completion.text or json.dumps(tool_input)
            return apply_choice(completion, request.choice, tool_input)
        return parse_choice_text(completion, request.choice)

    def complete_batch(
        self, requests: list[LLMRequest], *, heartbeat: Callable[[], None] | None = None
    ) -> list[Completion | LLMError]:
        """Send ``requests`` through Message Batches: submit every chunk, poll until all end, match by custom_id.

        An item comes back as a Completion (priced at the batch share) or an ``LLMError`` saying whether it is worth
        sending again (errored on the server's side, expired, cancelled) or not (an invalid request). ``heartbeat``
        is called at every poll; whatever it raises (e.g. ``JobCancelled``) cancels the batches and propagates.
        """
        results: list[Completion | LLMError | None] = [None] * len(requests)
        started = time.monotonic()
        batch_ids = [self._submit(chunk) for chunk in self._chunks(requests)]
        try:
            for batch_id in batch_ids:
                self._wait(batch_id, heartbeat)
        except BaseException:
            for batch_id in batch_ids:  # stop paying for work nobody will read
                with contextlib.suppress(LLMError):
                    self._call(
                        "batch cancel", lambda client, batch_id=batch_id: client.messages.batches.cancel(batch_id)
                    )
            raise
        for batch_id in batch_ids:
            for item in self._results(batch_id):
                index = int(item.custom_id.removeprefix("r"))
                outcome = item.result
                if outcome.type == "succeeded":
                    raw = outcome.message.model_dump_json()
                    latency = time.monotonic() - started
                    results[index] = self.completion(
                        outcome.message, requests[index], raw=raw, latency=latency, batch=True
                    )
                elif outcome.type == "errored":
                    kind = outcome.error.error.type
                    results[index] = LLMError(
                        f"batch item errored: {kind}",
                        transient=kind not in ("invalid_request_error", "not_found_error"),
                    )
                else:  # canceled or expired: never processed, so worth sending again
                    results[index] = LLMError(f"batch item {outcome.type}", transient=True)
        missing = LLMError("batch returned no result for this item", transient=True)
        return [result if result is not None else missing for result in results]

    def _chunks(self, requests: list[LLMRequest]) -> list[list[dict[str, Any]]]:
        chunks: list[list[dict[str, Any]]] = [[]]
        size = 0
        for index, request in enumerate(requests):
            item = {"custom_id": f"r{index}", "params": self.params(request)}
            item_size = len(json.dumps(item))
            if chunks[-1] and (len(chunks[-1]) >= BATCH_MAX_REQUESTS or size + item_size > BATCH_MAX_BYTES):
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += item_size
        return [chunk for chunk in chunks if chunk]

    def _call(self, label: str, call: Any) -> Any:
        def attempt() -> Any:
            try:
                with self.clients.client() as client:
                    return call(client)
            except anthropic.APIError as exc:
                raise sdk_error(exc) from exc

        return with_retries(
            attempt,
            attempts=self.endpoint.max_attempts,
            budget_seconds=self.endpoint.retry_budget_seconds,
            label=f"{self.endpoint.name} {label}",
        )

    def _submit(self, chunk: list[dict[str, Any]]) -> str:
        batch = self._call("batch submit", lambda client: client.messages.batches.create(requests=chunk))
        return batch.id

    def _wait(self, batch_id: str, heartbeat: Callable[[], None] | None) -> None:
        delay = BATCH_POLL_SECONDS
        while self._call("batch poll", lambda client: client.messages.batches.retrieve(batch_id)).processing_status != (
            "ended"
        ):
            if heartbeat is not None:
                heartbeat()
            time.sleep(delay)
            delay = min(BATCH_POLL_CAP_SECONDS, delay * 1.5)

    def _results(self, batch_id: str) -> list[Any]:
        return self._call("batch results", lambda client: list(client.messages.batches.results(batch_id)))
