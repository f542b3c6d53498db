"""Fault classification and the retry loop.

Transient: 408/409/429 (Retry-After honoured), 5xx including Anthropic's 529 "overloaded", timeouts and connection
errors; these retry with capped, jittered exponential back-off for the endpoint's retry budget (seconds).
Everything else (400, 401, 403, 404, 413, 422, a missing key) is permanent and fails at once. A reply that arrives
but cannot be understood is not an error here: providers turn it into ``Completion(valid=False)``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from core.llm.types import LLMError

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_BASE_SECONDS = 0.5
# Waits between tries grow to this and stay there: a server back from an outage is noticed within 10 s, and a long
# retry budget (a vLLM server loading its model for minutes) costs one cheap request every 10 s.
RETRY_CAP_SECONDS = 10.0
RETRY_AFTER_CAP_SECONDS = 120.0
_TRANSIENT_STATUS = frozenset({408, 409, 429})


def is_transient_status(status: int) -> bool:
    return status in _TRANSIENT_STATUS or status >= 500


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date); None when absent or garbled."""
    if not headers:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def sdk_error(exc: Exception) -> LLMError:
    """Translate an ``anthropic`` or ``openai`` SDK exception (both share the same shape) into an ``LLMError``."""
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    if isinstance(status, int):
        response: Any = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        return LLMError(
            f"HTTP {status} ({name}): {_short(exc)}{_details(getattr(exc, 'body', None))}",
            transient=is_transient_status(status),
            status_code=status,
            retry_after=retry_after_seconds(headers),
        )
    if "Timeout" in name or "Connection" in name:
        return LLMError(f"{name}: {_short(exc)}", transient=True)
    return LLMError(f"{name}: {_short(exc)}", transient=False)


def _details(body: object) -> str:
    """The error body's extra fields that the SDK leaves out of the message (llama.cpp: n_prompt_tokens, n_ctx)."""
    if not isinstance(body, Mapping):
        return ""
    extra = [
        f"{key}={value}"
        for key, value in body.items()
        if key not in ("message", "type", "code", "param") and isinstance(value, int) and not isinstance(value, bool)
    ]
    return f" [{', '.join(extra[:5])}]" if extra else ""


def _short(exc: Exception) -> str:
    return str(exc)[:500]


# What servers say when they cannot do the structured output asked for: OpenAI/vLLM name the parameter; llama-cpp-python
# answers json_schema with HTTP 500 "response_format.type: Input should be 'text' or 'json_object'".
_STRUCTURED_OUTPUT_REJECTED = re.compile(
    r"response_format|json_schema|json_object|Input should be 'text'|\btool_choice\b|\btools\b", re.IGNORECASE
)
# How servers say the prompt is longer than the context: llama.cpp's llama-server ("request (4476 tokens) exceeds
# the available context size (4096 tokens)", older: "the request exceeds the available context size", with
# "n_ctx": 4096), llama-cpp-python and OpenAI ("This model's maximum context length is 4096 tokens"), vLLM.
_CONTEXT_EXCEEDED = re.compile(
    r"exceeds? the available context size|maximum context length|context window|context length|n_ctx",
    re.IGNORECASE,
)
_CONTEXT_SIZE = re.compile(
    r"\bn_ctx\b\W{0,4}(\d+)|context size \((\d+) tokens\)|maximum context length is (\d+)"
    r"|context window of (\d+)",
    re.IGNORECASE,
)


def rejects_structured_output(error: LLMError) -> bool:
    """The server refused the request because of how structured output was asked for (any 4xx/5xx that says so).

    Not transient for that purpose, whatever its status: asking again the same way gets the same answer.
    """
    return (
        error.status_code is not None
        and error.status_code >= 400
        and bool(_STRUCTURED_OUTPUT_REJECTED.search(str(error)))
    )


def exceeds_context(error: LLMError) -> bool:
    """The server refused the prompt as longer than its context window."""
    return (
        error.status_code is not None and 400 <= error.status_code < 500 and bool(_CONTEXT_EXCEEDED.search(str(error)))
    )


def context_size_in(error: LLMError) -> int | None:
    """The context size (tokens) a context-exceeded error names, when it names one."""
    match = _CONTEXT_SIZE.search(str(error))
    return int(next(group for group in match.groups() if group)) if match else None


def backoff_delay(attempt: int, error: LLMError) -> float:
    """How long to wait before try ``attempt + 1``: the server's Retry-After if given, else capped jittered back-off."""
    if error.retry_after is not None:
        return min(error.retry_after, RETRY_AFTER_CAP_SECONDS)
    return min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int | None,
    label: str,
    budget_seconds: float | None = None,
    on_wait: Callable[[LLMError, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on a transient ``LLMError`` wait and try again until ``budget_seconds`` have passed since the
    first try (the last wait is cut to what is left, so a server back just before the deadline is still reached),
    and at most ``attempts`` tries in all when that is given. One of the two must be given.

    ``on_wait(error, delay)`` is told before each wait (it may raise to stop); ``sleep`` does the waiting.
    """
    if attempts is None and budget_seconds is None:
        raise ValueError("with_retries needs attempts or budget_seconds")
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except LLMError as error:
            if not error.transient or (attempts is not None and attempt >= attempts):
                raise
            delay = backoff_delay(attempt, error)
            if budget_seconds is not None:
                remaining = budget_seconds - (time.monotonic() - started)
                if remaining <= 0:
                    raise
                delay = min(delay, remaining)
            logger.info("%s: transient failure (%s); try %d in %.2fs", label, error, attempt + 1, delay)
            if on_wait is not None:
                on_wait(error, delay)
            sleep(delay)
