from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> None:
    # Deletes only this test session's keys (its KEY_PREFIX, set in tests/conftest.py), never FLUSHDB: in CI the
    # cache's Redis db is also the Celery broker of concurrently running tests and workers.
    cache.clear()
