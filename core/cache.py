"""Django's Redis cache backend, with a client kept per connection pool and a hit counter in one round trip.

Django's backend builds a new ``redis.Redis`` (and its table of ~170 reply callbacks) on every cache call and
counts with EXISTS then INCR; the participant save path makes two such calls per request. Its ``clear()`` is
FLUSHDB, which would also empty Celery's queues when the cache shares the broker's db (``REDIS_URL`` defaults to
``CELERY_BROKER_URL``): ours deletes only the cache's own keys.

The cache is an accelerator: the database holds the truth. Each user of the cache decides what an unreachable Redis
means for it (``CACHE_ERRORS``): sessions read the database (``core.sessions``), the participant rate limits let the
request through (``annotation.ratelimit``), login throttling refuses the login (``core.login_throttle``), and cached
figures and results are computed again (``recompute_get``/``recompute_set``).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a cache call raises when Redis is down, unreachable or refusing writes (redis-py wraps socket errors in its
# ConnectionError and TimeoutError). The in-process cache of the embedded default never raises.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError,)
# An outage is one warning a minute per process and use, not one per request (a study's saves come in hundreds).
UNREACHABLE_LOG_SECONDS = 60.0
_last_logged: dict[str, float] = {}


def cache_unreachable(use: str, error: Exception) -> None:
    """Log that ``use`` (say "sessions: read from the database") went on without the cache, at most once a
    minute per process and use."""
    now = time.monotonic()
    if now - _last_logged.get(use, -UNREACHABLE_LOG_SECONDS) >= UNREACHABLE_LOG_SECONDS:
        _last_logged[use] = now
        logger.warning("cache unreachable (%s: %s); %s", type(error).__name__, error, use)


def recompute_get(key: str) -> Any:
    """``cache.get`` for a value the cache only saves recomputing (a figure, a results table): a miss (None) when
    the cache is unreachable, so the page computes it instead of failing."""
    try:
        return cache.get(key)
    except CACHE_ERRORS as exc:
        cache_unreachable("computed results and figures: computed again", exc)
        return None


def recompute_set(key: str, value: Any, *, timeout: int) -> None:
    """``cache.set`` for such a value: skipped when the cache is unreachable."""
    try:
        cache.set(key, value, timeout=timeout)
    except CACHE_ERRORS as exc:
        cache_unreachable("computed results and figures: computed again", exc)


class _PooledClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key: object = None, *, write: bool = False) -> object:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # a Redis client is thread-safe: it takes a connection from its pool per command
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = _PooledClient

    def hit(self, key: str, timeout: int) -> int:
        """Count one hit on ``key`` (which lives ``timeout`` seconds from its first hit) and return the count."""
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]

    def clear(self) -> None:
        """Delete every key of this cache (its ``KEY_PREFIX``, any version) and nothing else in the db."""
        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix)  # glob-escaped: the prefix is literal
        client = self._cache.get_client(write=True)
        batch: list[bytes] = []
        for key in client.scan_iter(match=self.key_func("*", prefix, "*"), count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
