"""Sessions read from the cache when it answers and from the database when it does not (``SESSION_ENGINE`` when
there is Redis).

Django's ``cached_db`` engine writes every session through to the database, yet it raises when the cache is
unreachable: its ``load`` treats a failed read as a miss but then fails writing the row it read back into the cache,
and ``exists`` and ``delete`` (a login or a participant's entry rotates the key) call the cache unguarded. So with
Redis down every request that carries a session cookie was a 500, though the database held every session.

Why a store over a tolerant view of the cache, rather than a cache alias that swallows its errors: the other users of
the same cache must *see* an outage to do their own right thing (the participant rate limits let requests through,
login throttling refuses logins), and a second alias would mean a second connection pool to the same Redis. Only the
session store turns a cache error into a miss (reads) or a skipped write, and logs it.

While Redis is unreachable, a logout or a key rotation cannot delete the cached copy of the old session; were Redis
to come back with its data (a network partition rather than a restart), that copy would be served again. Copies
therefore live at most ``SESSION_CACHE_SECONDS`` (one database read per session that often: nothing next to a
study's saves), which bounds that window.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches

from core.cache import CACHE_ERRORS, cache_unreachable

SESSION_CACHE_SECONDS = 300
_MISS = "sessions: read from and written to the database only"


class _BestEffortCache:
    """The session cache as an accelerator: a read it cannot make is a miss, a write it cannot make is skipped."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._cache.get(key, default)
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)
            return default

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        timeout = SESSION_CACHE_SECONDS if timeout is None else min(timeout, SESSION_CACHE_SECONDS)
        try:
            self._cache.set(key, value, timeout)
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)

    def delete(self, key: str) -> bool:
        try:
            return bool(self._cache.delete(key))
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)
            return False

    def __contains__(self, key: str) -> bool:
        try:
            return key in self._cache
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)
            return False  # the caller then asks the database

    # The async session API (an ASGI deployment) gets the same treatment.
    async def aget(self, key: str, default: Any = None) -> Any:
        try:
            return await self._cache.aget(key, default)
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)
            return default

    async def aset(self, key: str, value: Any, timeout: int | None = None) -> None:
        timeout = SESSION_CACHE_SECONDS if timeout is None else min(timeout, SESSION_CACHE_SECONDS)
        try:
            await self._cache.aset(key, value, timeout)
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)

    async def adelete(self, key: str) -> bool:
        try:
            return bool(await self._cache.adelete(key))
        except CACHE_ERRORS as exc:
            cache_unreachable(_MISS, exc)
            return False

    def __str__(self) -> str:
        return str(self._cache)


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _BestEffortCache(caches[settings.SESSION_CACHE_ALIAS])
