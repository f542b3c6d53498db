"""Per-endpoint concurrency and requests-per-minute limits.

With Redis configured (``settings.REDIS_URL``) the limits hold across every process and machine: a lease set
(sorted set of holder → expiry) caps calls in flight, and a GCRA schedule (one "theoretical arrival time" key) spaces
requests ``60 / rpm`` seconds apart. Both steps are Lua scripts on Redis's clock, so they are atomic and immune to
clock skew between workers. A lease is short (``LEASE_SECONDS``) and a thread in each process renews the leases of
its calls in flight, so a call may run as long as it likes while its process lives, and a process killed mid-call
(SIGKILL, OOM) frees its slots within seconds instead of after the call timeout. Without Redis (the embedded
default runs one worker process) the same limits are kept in process with a semaphore and a lock.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from core.llm.models import ModelEndpoint

KEY_PREFIX = "persona-lab:llm"
# How long a slot stays taken after its process stops renewing it (a worker killed mid-call). The renewal thread
# runs every RENEW_SECONDS, so a live process would have to stall LEASE_SECONDS - RENEW_SECONDS to lose a lease.
LEASE_SECONDS = 6.0
RENEW_SECONDS = 1.5

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

# Extends the leases still held (XX: a lease that already expired is not brought back, its slot may be taken).
_RENEW = """
local now = redis.call('TIME')
local expiry = tonumber(now[1]) + tonumber(now[2]) / 1e6 + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 60)
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
    """Limits shared by every process using the same Redis.

    Acquiring and releasing a slot are one round trip each; the leases are renewed off the call path, by one
    daemon thread per process (started again in a forked child, which inherits no threads).
    """

    def __init__(
        self,
        url: str,
        *,
        client: Any = None,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        import redis

        self.redis = client or redis.Redis.from_url(url)
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._renew = self.redis.register_script(_RENEW)
        self._rate = self.redis.register_script(_RATE)
        self._held: dict[str, set[str]] = {}  # lease-set key -> holders of this process
        self._held_lock = threading.Lock()
        self._renewer_pid: int | None = None

    @contextmanager
    def slot(self, endpoint: ModelEndpoint) -> Iterator[None]:
        holder = uuid.uuid4().hex
        key = f"{KEY_PREFIX}:{endpoint.name}:inflight"
        self._renewer_ensure()
        delay = 0.005
        while not self._acquire(keys=[key], args=[endpoint.concurrency, self.lease_seconds, holder]):
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(0.1, delay * 1.5)
        with self._held_lock:
            self._held.setdefault(key, set()).add(holder)
        try:
            self._wait_for_rate(endpoint)
            yield
        finally:
            with self._held_lock:
                self._held.get(key, set()).discard(holder)
            self.redis.zrem(key, holder)

    def _renewer_ensure(self) -> None:
        if self._renewer_pid == os.getpid():
            return
        with self._held_lock:
            if self._renewer_pid != os.getpid():
                self._held = {}  # a forked child holds none of its parent's slots
                self._renewer_pid = os.getpid()
                renewer = threading.Thread(
                    target=_renew_forever, args=(weakref.ref(self), os.getpid()), name="llm-lease-renewer", daemon=True
                )
                renewer.start()

    def leases_renew(self) -> None:
        """Extend the lease of every slot this process holds (one pipeline, whatever the number of endpoints)."""
        with self._held_lock:
            held = [(key, sorted(holders)) for key, holders in self._held.items() if holders]
            self._held = {key: set(holders) for key, holders in held}  # drop endpoints with nothing in flight
        if not held:
            return
        pipeline = self.redis.pipeline(transaction=False)
        for key, holders in held:
            self._renew(keys=[key], args=[self.lease_seconds, *holders], client=pipeline)
        pipeline.execute()

    def _wait_for_rate(self, endpoint: ModelEndpoint) -> None:
        if not endpoint.requests_per_minute:
            return
        key = f"{KEY_PREFIX}:{endpoint.name}:rate"
        interval = 60.0 / endpoint.requests_per_minute
        while (wait := float(self._rate(keys=[key], args=[interval]))) > 0:
            time.sleep(wait)


def _renew_forever(ref: weakref.ref[RedisLimiter], pid: int) -> None:
    """The renewal loop; it holds the limiter weakly, so a limiter nobody uses any more takes its thread with it."""
    while (limiter := ref()) is not None and limiter._renewer_pid == pid:
        interval = limiter.renew_seconds
        try:
            limiter.leases_renew()
        except Exception:  # Redis unreachable for a moment: the next round tries again
            logger.warning("LLM slot leases could not be renewed", exc_info=True)
        del limiter
        time.sleep(interval)


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
