"""A fixed-window rate limit on the cache: enough to stop one client hammering the entry and save endpoints.

It fails open: with the cache (Redis) unreachable, every request is let through. The limits guard against a runaway
client; refusing every participant's entry and save while Redis is down would be the outage they exist to prevent.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from core.cache import CACHE_ERRORS, cache_unreachable

ENTRY_PER_MINUTE_PER_IP = settings.PARTICIPANT_ENTRIES_PER_MINUTE_PER_IP
ENTRY_PER_MINUTE_PER_PID = 20
SAVES_PER_MINUTE_PER_PARTICIPANT = 240


def _hit(bucket: str, timeout: int) -> int:
    if hasattr(cache, "hit"):  # core.cache.RedisCache: one round trip
        return cache.hit(bucket, timeout)
    if cache.add(bucket, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=timeout)
        return 1


def rate_limited(*, scope: str, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for (scope, key) in the current window; True once the limit is exceeded (never while the
    cache is unreachable)."""
    bucket = f"ratelimit:{scope}:{key}:{int(time.time() // window_seconds)}"
    try:
        return _hit(bucket, window_seconds + 5) > limit
    except CACHE_ERRORS as exc:
        cache_unreachable("participant rate limits: not applied", exc)
        return False


def client_ip(request: object) -> str:
    meta = getattr(request, "META", {})
    return str(meta.get("REMOTE_ADDR", "unknown"))
