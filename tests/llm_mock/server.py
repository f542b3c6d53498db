"""A local HTTP server speaking the Anthropic Messages + Message Batches and OpenAI chat-completions wire formats.

Tests and benchmarks point the real SDKs at it (``base_url``); nothing leaves 127.0.0.1. Answers are deterministic
(a hash of the request picks the option), token usage is counted as ~4 characters per token, and Anthropic prompt
caching is simulated the way Claude does it: a ``cache_control`` prefix is written once, then read, when it has at
least 1,024 tokens (2,048 for Haiku-class models); a shorter one is plain input. OpenAI's automatic caching of a
repeated system message also starts at 1,024 tokens.

Faults are injected two ways:
- ``server.enqueue("429", "500")``: the next requests, in arrival order, get these faults;
- a marker in any prompt text, ``[[mock:FAULT]]`` (always) or ``[[mock:FAULT*2]]`` (the first two times that exact
  request arrives), so concurrent tests can say per request what should go wrong.
Faults: 429 (with Retry-After), 529 (overloaded), 500, 400, 401, 404, hang (sleep ``hang_seconds``), malformed
(HTTP 200 with a broken JSON body), offformat (a well-formed reply whose answer is not one of the options),
refusal (Anthropic ``stop_reason: refusal``), reject_schema (OpenAI: 400 on ``response_format``), errored
(batch item: an ``api_error`` result), invalid_item (batch item: ``invalid_request_error``), echo (OpenAI: the
model repeats its system prompt until ``max_tokens``, ``finish_reason: length``), echo_reasoning (OpenAI: a
well-formed answer whose reasoning, or each text field of an object reply, is the system prompt).

A llama.cpp server (llama-cpp-python 0.3's OpenAI-compatible server) is imitated by ``MockConfig`` switches:
``llama_cpp`` (``json_schema`` answered with HTTP 500 naming ``response_format``; ``json_object`` + ``schema``
honoured like its grammar), ``drop_system`` (a chat format that silently drops the system message: the model
never sees it and it is not counted in ``prompt_tokens``) and ``context_window`` (a prompt longer than that many
tokens gets llama.cpp's HTTP 400 "the request exceeds the available context size").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_MARKER = re.compile(r"\[\[mock:([a-z_0-9]+)(?:\*(\d+))?\]\]")
_BATCH_PATH = re.compile(r"^/v1/messages/batches/([\w-]+)(/results)?$")
_CANCEL_PATH = re.compile(r"^/v1/messages/batches/([\w-]+)/cancel$")


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def min_cache_tokens(model: str, configured: int | None = None) -> int:
    """The shortest prefix the provider caches: Claude's minimum cacheable prompt length, unless the server was
    started with another (the cost benchmark models a prefix long enough to cache)."""
    if configured is not None:
        return configured
    return 2048 if "haiku" in model.lower() else 1024


@dataclass
class _Batch:
    id: str
    requests: list[dict[str, Any]]
    created: float
    results: list[dict[str, Any]] = field(default_factory=list)
    canceled: bool = False


@dataclass
class MockConfig:
    latency: float = 0.0
    retry_after: str = "0.05"  # the Retry-After header sent with 429s (seconds, as text)
    hang_seconds: float = 5.0
    min_cache_tokens: int | None = None  # None: Claude's rule (``min_cache_tokens``)
    batch_seconds: float = 0.2  # how long a batch stays in_progress
    reject_json_schema: bool = False  # act like a server without response_format support
    # Plain-text replies differ per request ("Mock reply <hash>."), as generated answers would; default: fixed.
    varied_text: bool = False
    llama_cpp: bool = False  # llama-cpp-python's server: json_schema → HTTP 500; json_object + schema honoured
    drop_system: bool = False  # a chat format that drops the system message (llama-cpp-python's "gemma")
    context_window: int | None = None  # tokens; a longer prompt gets llama.cpp's HTTP 400


class MockState:
    """Everything the handler threads share; tests read ``requests`` and ``stats`` to check what was sent."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.queue: deque[str] = deque()
        self.seen: Counter[str] = Counter()
        self.cache: set[str] = set()
        self.batches: dict[str, _Batch] = {}
        self.requests: list[dict[str, Any]] = []  # (path, body) of every request, in arrival order
        self.in_flight = 0
        self.max_in_flight = 0
        self.stats: Counter[str] = Counter()

    def fault_for(self, body: dict[str, Any], raw: bytes | None = None) -> str | None:
        with self.lock:
            if self.queue:
                return self.queue.popleft()
            if raw is not None and b"[[mock:" not in raw:
                return None  # the common case, kept cheap for benchmarks
            text = json.dumps(body, sort_keys=True)
            match = _MARKER.search(text)
            if not match:
                return None
            fault, times = match.group(1), match.group(2)
            digest = hashlib.sha256(text.encode()).hexdigest()
            self.seen[digest] += 1
            if times is None or self.seen[digest] <= int(times):
                return fault
            return None


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [part.get("text", "") for part in content or [] if isinstance(part, dict)]


def _pick(options: list[str], seed_text: str) -> str:
    return options[int(hashlib.sha256(seed_text.encode()).hexdigest(), 16) % len(options)]


def _plain_text(state: MockState, seed_text: str, fault: str | None) -> str:
    if fault == "offformat":
        return "Hmm, hard to say."
    if state.config.varied_text:
        return f"Mock reply {hashlib.sha256(seed_text.encode()).hexdigest()[:12]}."
    return "Mock reply."


def _fill(properties: dict[str, Any], seed_text: str, fault: str | None, system: str = "") -> dict[str, Any]:
    """A reply to an object schema other than a choice: each field filled deterministically from the request (with
    ``echo_reasoning``, each text field is the system prompt)."""
    if fault == "offformat":
        return {"unexpected": "a reply that fits no schema"}
    answer: dict[str, Any] = {}
    for name, spec in properties.items():
        digest = int(hashlib.sha256(f"{seed_text}:{name}".encode()).hexdigest(), 16)
        if spec.get("type") == "boolean":
            answer[name] = bool(digest % 2)
        elif spec.get("type") == "array":
            options = (spec.get("items") or {}).get("enum") or ["item"]
            answer[name] = [o for i, o in enumerate(options) if (digest >> i) % 3 == 0]
        else:
            answer[name] = (
                system if fault == "echo_reasoning" and system else f"Mock {name} {digest % 1000}, a made-up value."
            )
    return answer


_PLAIN_FIELD = re.compile(r'^- "([^"]+)": (true or false|a list of strings|a string)(?: \(from: (.*)\))?\. ', re.M)


def _plain_properties(prompt: str) -> dict[str, Any]:
    """The fields a plain-text object instruction (``core.llm.parsing.plain_object_instruction``) lists."""
    properties: dict[str, Any] = {}
    for name, kind, allowed in _PLAIN_FIELD.findall(prompt):
        if kind == "true or false":
            properties[name] = {"type": "boolean"}
        elif kind == "a list of strings":
            enum = [v.strip() for v in allowed.split(",")] if allowed else []
            properties[name] = {"type": "array", "items": {"type": "string", "enum": enum}}
        else:
            properties[name] = {"type": "string"}
    return properties


def _anthropic_message(state: MockState, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
    """Build a Messages API reply: usage with simulated caching, a tool_use answer when a tool is forced."""
    system = body.get("system") or []
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    tools = body.get("tools") or []
    prefix_tokens = count_tokens(json.dumps(tools)) if tools else 0
    cache_read = cache_write = 0
    total = prefix_tokens
    for index, block in enumerate(blocks):
        total += count_tokens(block.get("text", ""))
        minimum = min_cache_tokens(body.get("model", ""), state.config.min_cache_tokens)
        if block.get("cache_control") and total >= minimum:
            key = hashlib.sha256(json.dumps([body.get("model"), tools, blocks[: index + 1]]).encode()).hexdigest()
            with state.lock:
                hit = key in state.cache
                state.cache.add(key)
            cache_read, cache_write = (total, 0) if hit else (0, total)
    for message in body.get("messages", []):
        total += sum(count_tokens(t) for t in _texts(message.get("content")))
    seed = json.dumps(body.get("messages"), sort_keys=True)
    choice = body.get("tool_choice") or {}
    stop_reason = "end_turn"
    if fault == "refusal":
        content: list[dict[str, Any]] = [{"type": "text", "text": "I can't help with that."}]
        stop_reason = "refusal"
    elif choice.get("type") == "tool":
        tool = next(t for t in tools if t["name"] == choice["name"])
        properties = tool["input_schema"]["properties"]
        if "choice" in properties:
            options = properties["choice"]["enum"]
            picked = "maybe" if fault == "offformat" else _pick(options, seed)
            answer = {"reasoning": f"Mock reasoning for {picked}.", "choice": picked, "confidence": 70}
        else:
            answer = _fill(properties, seed, fault)
        content = [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:12]}", "name": tool["name"], "input": answer}]
        stop_reason = "tool_use"
    else:
        content = [{"type": "text", "text": _plain_text(state, seed, fault)}]
    output = json.dumps(content)
    return {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "mock"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": total - cache_read - cache_write,
            "output_tokens": count_tokens(output),
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
        },
    }


def _openai_answer(
    state: MockState, body: dict[str, Any], fault: str | None, prompt: str, system: str
) -> tuple[str, dict[str, Any] | None]:
    """The reply text, or (for a forced tool) the tool call, for a chat-completions request."""
    fmt = body.get("response_format") or {}
    schema = None
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
    elif fmt.get("type") == "json_object":
        schema = fmt.get("schema")  # llama.cpp turns it into a grammar; without one the reply is only JSON
    tool_call = None
    forced = (body.get("tool_choice") or {}).get("function", {}).get("name") if body.get("tools") else None
    if forced:
        tool = next(t["function"] for t in body["tools"] if t["function"]["name"] == forced)
        schema = tool["parameters"]
    options = re.findall(r"exactly one of: ([^\n.]+)", prompt)
    plain_fields = _plain_properties(prompt) if not schema and "Reply with only a JSON object" in prompt else {}
    if schema and "choice" not in schema["properties"]:
        text = json.dumps(_fill(schema["properties"], prompt, fault, system))
    elif schema:
        picked = "maybe" if fault == "offformat" else _pick(schema["properties"]["choice"]["enum"], prompt)
        reasoning = system if fault == "echo_reasoning" else f"Mock reasoning for {picked}."
        text = json.dumps({"reasoning": reasoning, "choice": picked, "confidence": 70})
    elif fmt.get("type") == "json_object":
        text = json.dumps({"reply": "Mock reply."})
    elif plain_fields:
        text = "Here it is:\n" + json.dumps(_fill(plain_fields, prompt, fault))
    elif options and fault != "offformat":
        legal = [o.strip().strip('"') for o in options[-1].split(",")]
        picked = _pick(legal, prompt)
        reasoning = system.replace("\n", " ") if fault == "echo_reasoning" else "mock reasoning."
        text = f"Reasoning: {reasoning}\nAnswer: {picked}"
    elif (word := re.search(r"code word is (\S+?)\.", prompt)) and "reply with the code word" in prompt.lower():
        text = word.group(1)  # llm_check's canary: repeated only when the system message reached the model
    else:
        text = _plain_text(state, prompt, fault)
    if forced:
        tool_call = {
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": forced, "arguments": text},
        }
    return text, tool_call


def _openai_completion(state: MockState, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
    messages = body.get("messages", [])
    if state.config.drop_system:  # what llama-cpp-python's "gemma" chat format does to a system message
        messages = [m for m in messages if m.get("role") != "system"]
    prompt = "\n".join(t for m in messages for t in _texts(m.get("content")))
    system = "\n".join(t for m in messages if m.get("role") == "system" for t in _texts(m.get("content")))
    max_tokens = body.get("max_tokens") or 1024
    text, tool_call = _openai_answer(state, body, fault, prompt, system)
    finish_reason = "tool_calls" if tool_call else "stop"
    completion_tokens = count_tokens(text)
    if fault == "echo":  # a small model repeating its instructions until it is cut off
        said = system or prompt
        text = ((said + "\n") * (max_tokens * 4 // max(1, len(said)) + 1))[: max_tokens * 4]
        tool_call, finish_reason, completion_tokens = None, "length", max_tokens
    elif completion_tokens > max_tokens:  # cut off at max_tokens, as a real server would
        text = text[: max_tokens * 4]
        tool_call, finish_reason, completion_tokens = None, "length", max_tokens
    prompt_tokens = count_tokens(prompt)
    cached = 0
    minimum = min_cache_tokens(body.get("model", ""), state.config.min_cache_tokens)
    if prompt_tokens >= minimum and messages and messages[0].get("role") == "system":
        key = hashlib.sha256(json.dumps([body.get("model"), messages[0]]).encode()).hexdigest()
        with state.lock:
            cached = count_tokens("".join(_texts(messages[0].get("content")))) if key in state.cache else 0
            state.cache.add(key)
    message: dict[str, Any] = {"role": "assistant", "content": None if tool_call else text}
    if tool_call:
        message["tool_calls"] = [tool_call]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "mock"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def _openai_refusal(state: MockState, body: dict[str, Any], fault: str | None) -> tuple[int, dict[str, Any]] | None:
    """The HTTP error a server of the configured kind answers this chat-completions request with, if any."""
    config = state.config
    fmt = (body.get("response_format") or {}).get("type")
    if fmt and (config.reject_json_schema or fault == "reject_schema"):
        message = "response_format json_schema is not supported"
        return 400, {"error": {"message": message, "type": "invalid_request_error"}}
    if config.llama_cpp and fmt not in (None, "text", "json_object"):
        # llama-cpp-python validates the request with pydantic and answers a 500 (its wording, abridged).
        message = (
            "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
            f"  Input should be 'text' or 'json_object' [type=literal_error, input_value='{fmt}']"
        )
        return 500, {"error": {"message": message, "type": "internal_server_error"}}
    if config.context_window is not None:
        messages = body.get("messages", [])
        if config.drop_system:
            messages = [m for m in messages if m.get("role") != "system"]
        tokens = sum(count_tokens(t) for m in messages for t in _texts(m.get("content")))
        if tokens > config.context_window:
            error = {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": tokens,
                "n_ctx": config.context_window,
            }
            return 400, {"error": error}
    return None


def _batch_json(state: MockState, batch: _Batch, base_url: str) -> dict[str, Any]:
    ended = time.monotonic() - batch.created >= state.config.batch_seconds
    if ended and not batch.results:
        batch.results = [_batch_result(state, item) for item in batch.requests]
        random.Random(batch.id).shuffle(batch.results)  # real results arrive in any order
    counts = Counter(r["result"]["type"] for r in batch.results)
    stamp = "2026-01-01T00:00:00Z"
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": {
            "processing": 0 if ended else len(batch.requests),
            "succeeded": counts["succeeded"],
            "errored": counts["errored"],
            "canceled": 0,
            "expired": 0,
        },
        "created_at": stamp,
        "expires_at": "2026-01-02T00:00:00Z",
        "ended_at": stamp if ended else None,
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


def _batch_result(state: MockState, item: dict[str, Any]) -> dict[str, Any]:
    fault = state.fault_for(item["params"])
    if fault in ("errored", "invalid_item"):
        kind = "api_error" if fault == "errored" else "invalid_request_error"
        error = {"type": "error", "error": {"type": kind, "message": f"mock {kind}"}}
        return {"custom_id": item["custom_id"], "result": {"type": "errored", "error": error}}
    message = _anthropic_message(state, item["params"], fault)
    return {"custom_id": item["custom_id"], "result": {"type": "succeeded", "message": message}}


_ERRORS = {
    "400": (400, "invalid_request_error"),
    "401": (401, "authentication_error"),
    "404": (404, "not_found_error"),
    "429": (429, "rate_limit_error"),
    "500": (500, "api_error"),
    "529": (529, "overloaded_error"),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the second ~40 ms
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, fault: str, openai: bool) -> None:
        status, kind = _ERRORS[fault]
        headers = {"Retry-After": self.server.state.config.retry_after} if status == 429 else {}
        if openai:
            payload: dict[str, Any] = {"error": {"message": f"mock {kind}", "type": kind, "code": None}}
        else:
            payload = {"type": "error", "error": {"type": kind, "message": f"mock {kind}"}}
        self._send(status, payload, headers)

    def do_GET(self) -> None:
        state = self.server.state
        match = _BATCH_PATH.match(self.path.split("?")[0])
        batch = state.batches.get(match.group(1)) if match else None
        if batch is None:
            self._error("404", openai=False)
            return
        info = _batch_json(state, batch, self.server.base_url)
        if match and match.group(2):
            lines = "\n".join(json.dumps(r) for r in batch.results) + "\n"
            self._send(200, None, raw=lines.encode())
        else:
            self._send(200, info)

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) or b"{}"
        body = json.loads(raw)
        path = self.path.split("?")[0]
        openai = path.endswith("/chat/completions")
        with state.lock:
            state.requests.append({"path": path, "body": body})
            state.stats[path] += 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if path == "/v1/messages/batches":
                batch = _Batch(
                    id=f"msgbatch_{uuid.uuid4().hex[:16]}", requests=body["requests"], created=time.monotonic()
                )
                with state.lock:
                    state.batches[batch.id] = batch
                self._send(200, _batch_json(state, batch, self.server.base_url))
                return
            if cancel := _CANCEL_PATH.match(path):
                batch = state.batches[cancel.group(1)]
                batch.canceled = True
                self._send(200, {**_batch_json(state, batch, self.server.base_url), "processing_status": "canceling"})
                return
            fault = state.fault_for(body, raw)
            if state.config.latency:
                time.sleep(state.config.latency)
            if fault == "hang":
                time.sleep(state.config.hang_seconds)
            if fault in _ERRORS:
                self._error(fault, openai)
            elif fault == "malformed":
                self._send(200, None, raw=b'{"id": "broken", "content": [')
            elif openai and (refusal := _openai_refusal(state, body, fault)):
                self._send(*refusal)
            elif openai:
                self._send(200, _openai_completion(state, body, fault))
            elif path == "/v1/messages":
                self._send(200, _anthropic_message(state, body, fault))
            else:
                self._error("404", openai)
        finally:
            with state.lock:
                state.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    state: MockState
    base_url: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open connection, kept-alive ones and those mid-request, as a server that died would."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class MockLLMServer:
    """``with MockLLMServer(latency=0.2) as mock:`` → ``mock.url`` (Anthropic base URL) and ``mock.openai_url``."""

    def __init__(self, **config: Any) -> None:
        self.state = MockState(MockConfig(**config))
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._server.base_url = self.url
        self.openai_url = f"{self.url}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def config(self) -> MockConfig:
        return self.state.config

    def enqueue(self, *faults: str) -> None:
        with self.state.lock:
            self.state.queue.extend(faults)

    def start(self) -> MockLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():  # stopped already (an outage the test did not end): shutdown() would block
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._thread.join()

    def restart(self) -> None:
        """Serve again on the same port after ``stop()`` (an outage: meanwhile connections are refused)."""
        port = int(self.url.rsplit(":", 1)[1])
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = self.state
        self._server.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def __enter__(self) -> MockLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
