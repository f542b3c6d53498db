"""The Redis cache backend: one client per pool, and a hit counter that starts its own expiry."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from core.cache import RedisCache


@pytest.fixture
def redis_cache() -> RedisCache:
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})


@pytest.mark.redis
def test_hit_counts_and_sets_the_expiry_once(redis_cache: RedisCache) -> None:
    assert [redis_cache.hit("bucket", 60) for _ in range(3)] == [1, 2, 3]
    client = redis_cache._cache.get_client(write=True)
    key = redis_cache.make_and_validate_key("bucket")
    assert 55 <= client.ttl(key) <= 60
    assert redis_cache.get("bucket") == 3  # readable through the ordinary cache API too
    redis_cache.delete("bucket")
    assert redis_cache.hit("bucket", 60) == 1


@pytest.mark.redis
def test_the_client_is_built_once_and_the_cache_api_still_works(redis_cache: RedisCache) -> None:
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client(write=True)
    redis_cache.set("k", {"a": 1}, 30)
    assert redis_cache.get("k") == {"a": 1}
    assert redis_cache.add("k", "other", 30) is False
    redis_cache.delete("k")


@pytest.mark.redis
def test_clear_deletes_only_the_caches_own_keys(redis_cache: RedisCache) -> None:
    # The cache shares its db with Celery's broker: clear() must leave the queues (and other prefixes) alone.
    client = redis_cache._cache.get_client(write=True)
    queue = f"test-queue-{uuid.uuid4().hex}"
    client.rpush(queue, "a queued task")
    neighbour = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"{redis_cache.key_prefix}x"})
    globbed = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"{redis_cache.key_prefix}?"})  # glob chars are literal
    redis_cache.set("a", 1, 30)
    redis_cache.set("b", 2, 30, version=2)
    neighbour.set("a", 3, 30)
    globbed.set("a", 4, 30)
    try:
        globbed.clear()
        assert (globbed.get("a"), neighbour.get("a"), redis_cache.get("a")) == (None, 3, 1)
        redis_cache.clear()
        assert (redis_cache.get("a"), redis_cache.get("b", version=2)) == (None, None)
        assert neighbour.get("a") == 3
        assert client.lrange(queue, 0, -1) == [b"a queued task"]
    finally:
        client.delete(queue)
        neighbour.delete("a")
