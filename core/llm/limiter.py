"""Per-endpoint concurrency and requests-per-minute limits.

With Redis configured (``settings.REDIS_URL``) the limits hold across every process and machine: a lease set
(sorted set of holder → expiry) caps calls in flight, and a GCRA schedule (one "theoretical arrival time" key) spaces
requests ``60 / rpm`` seconds apart. Both steps are Lua scripts on Redis's clock, so they are atomic and immune to
clock skew between workers; a worker that dies mid-call loses its lease when it expires. Without Redis (the
embedded default runs one worker process) the same limits are kept in process with a semaphore and a lock.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from core.llm.models import ModelEndpoint

KEY_PREFIX = "persona-lab:llm"
# Longest a lease may be held before others may take the slot (a worker killed mid-call).
LEASE_MARGIN_SECONDS = 30.0

_ACQUIRE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
  return 1
end
return 0
"""

# GCRA: returns 0 when the request may go now, otherwise the seconds to wait before asking again.
_RATE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < t then tat = t end
if tat - t > 0 then return tostring(tat - t) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', math.ceil(interval) + 60)
return '0'
"""


class Limiter(Protocol):
    def slot(self, endpoint: ModelEndpoint) -> Any: ...


class LocalLimiter:
    """In-process limits: one semaphore and one request schedule per endpoint name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._semaphores: dict[tuple[str, int], threading.BoundedSemaphore] = {}
        self._next_at: dict[str, float] = {}

    @contextmanager
    def slot(self, endpoint: ModelEndpoint) -> Iterator[None]:
        with self._lock:
            semaphore = self._semaphores.setdefault(
                (endpoint.name, endpoint.concurrency), threading.BoundedSemaphore(endpoint.concurrency)
            )
        with semaphore:
            self._wait_for_rate(endpoint)
            yield

    def _wait_for_rate(self, endpoint: ModelEndpoint) -> None:
        if not endpoint.requests_per_minute:
            return
        interval = 60.0 / endpoint.requests_per_minute
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_at.get(endpoint.name, 0.0))
            self._next_at[endpoint.name] = at + interval
        if at > now:
            time.sleep(at - now)


class RedisLimiter:
    """Limits shared by every process using the same Redis."""

    def __init__(self, url: str, *, client: Any = None) -> None:
        import redis

        self.redis = client or redis.Redis.from_url(url)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._rate = self.redis.register_script(_RATE)

    @contextmanager
    def slot(self, endpoint: ModelEndpoint) -> Iterator[None]:
        holder = uuid.uuid4().hex
        key = f"{KEY_PREFIX}:{endpoint.name}:inflight"
        lease = endpoint.timeout_seconds + LEASE_MARGIN_SECONDS
        delay = 0.005
        while not self._acquire(keys=[key], args=[endpoint.concurrency, lease, holder]):
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(0.1, delay * 1.5)
        try:
            self._wait_for_rate(endpoint)
            yield
        finally:
            self.redis.zrem(key, holder)

    def _wait_for_rate(self, endpoint: ModelEndpoint) -> None:
        if not endpoint.requests_per_minute:
            return
        key = f"{KEY_PREFIX}:{endpoint.name}:rate"
        interval = 60.0 / endpoint.requests_per_minute
        while (wait := float(self._rate(keys=[key], args=[interval]))) > 0:
            time.sleep(wait)


_limiter: Limiter | None = None
_limiter_lock = threading.Lock()


def limiter() -> Limiter:
    """The process's limiter: Redis-backed when ``settings.REDIS_URL`` is set, local otherwise."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            url = getattr(settings, "REDIS_URL", None)
            _limiter = RedisLimiter(url) if url else LocalLimiter()
        return _limiter
