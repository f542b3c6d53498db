from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from core.llm.limiter import LocalLimiter, RedisLimiter
from core.llm.models import ModelEndpoint


def endpoint(concurrency: int = 3, rpm: int = 0) -> ModelEndpoint:
    return ModelEndpoint(
        name=f"limit-{uuid.uuid4().hex[:8]}", concurrency=concurrency, requests_per_minute=rpm, timeout_seconds=5
    )


class Gauge:
    """Counts holders of a slot at once, across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def hold(self, seconds: float) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(seconds)
        with self.lock:
            self.now -= 1


def hammer(limiters: list, target: ModelEndpoint, calls: int, hold: float = 0.05) -> tuple[Gauge, float]:
    gauge = Gauge()

    def one(index: int) -> None:
        with limiters[index % len(limiters)].slot(target):
            gauge.hold(hold)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        list(pool.map(one, range(calls)))
    return gauge, time.monotonic() - started


def test_local_limiter_caps_concurrency():
    gauge, _ = hammer([LocalLimiter()], endpoint(concurrency=3), calls=12)
    assert gauge.peak == 3


def test_local_limiter_spaces_requests_per_minute():
    _, elapsed = hammer([LocalLimiter()], endpoint(concurrency=10, rpm=600), calls=6, hold=0)
    assert elapsed >= 0.5  # 6 requests, 0.1 s apart


@pytest.mark.redis
def test_redis_limits_hold_across_separate_clients():
    # Two limiters with their own connections stand for two Celery workers.
    limiters = [RedisLimiter(settings.REDIS_URL), RedisLimiter(settings.REDIS_URL)]
    assert limiters[0].redis is not limiters[1].redis
    target = endpoint(concurrency=3)
    gauge, _ = hammer(limiters, target, calls=16)
    assert gauge.peak == 3
    assert limiters[0].redis.zcard(f"persona-lab:llm:{target.name}:inflight") == 0  # every lease was released

    _, elapsed = hammer(limiters, endpoint(concurrency=10, rpm=600), calls=6, hold=0)
    assert elapsed >= 0.45


@pytest.mark.redis
def test_redis_lease_of_a_dead_worker_expires():
    limiter = RedisLimiter(settings.REDIS_URL)
    target = endpoint(concurrency=1)
    key = f"persona-lab:llm:{target.name}:inflight"
    limiter.redis.zadd(key, {"dead-worker": time.time() + 0.2})  # a lease nobody will release
    started = time.monotonic()
    with limiter.slot(target):
        pass
    assert time.monotonic() - started >= 0.1
