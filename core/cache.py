"""Django's Redis cache backend, with a client kept per connection pool and a hit counter in one round trip.

Django's backend builds a new ``redis.Redis`` (and its table of ~170 reply callbacks) on every cache call and
counts with EXISTS then INCR; the participant save path makes two such calls per request. Its ``clear()`` is
FLUSHDB, which would also empty Celery's queues when the cache shares the broker's db (``REDIS_URL`` defaults to
``CELERY_BROKER_URL``): ours deletes only the cache's own keys.
"""

from __future__ import annotations

import re

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _PooledClient(RedisCacheClient):
    def __init__(self, *args: object, **kwargs: object) -> None:
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
