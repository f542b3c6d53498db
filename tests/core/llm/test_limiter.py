from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from core.llm.limiter import LocalLimiter, RedisLimiter
from core.llm.models import ModelEndpoint

ROOT = Path(__file__).resolve().parents[3]

# A worker process: THREADS threads each make CALLS calls holding a slot HOLD seconds (longer than the lease, so
# only the renewal keeps it), counting holders at once in Redis; it prints "held" once its first slot is taken.
WORKER = textwrap.dedent("""
    import sys, threading, time
    from types import SimpleNamespace
    from core.llm.limiter import RedisLimiter

    url, name, concurrency, threads, calls, hold, lease, renew = sys.argv[1:]
    limiter = RedisLimiter(url, lease_seconds=float(lease), renew_seconds=float(renew))
    target = SimpleNamespace(name=name, concurrency=int(concurrency), requests_per_minute=0, timeout_seconds=120)

    def run():
        for _ in range(int(calls)):
            with limiter.slot(target):
                now = limiter.redis.incr(name + ":now")
                limiter.redis.rpush(name + ":seen", now)
                print("held", flush=True)
                time.sleep(float(hold))
                limiter.redis.decr(name + ":now")

    workers = [threading.Thread(target=run) for _ in range(int(threads))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
""")


def worker_start(target: ModelEndpoint, *, threads: int, calls: int, hold: float, lease: float) -> subprocess.Popen:
    args = [settings.REDIS_URL, target.name, target.concurrency, threads, calls, hold, lease, lease / 4]
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


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


@pytest.mark.redis
def test_redis_slot_of_a_killed_process_is_free_again_within_its_lease():
    target = endpoint(concurrency=1)  # timeout 5 s: the lease does not depend on it
    holder = worker_start(target, threads=1, calls=1, hold=300, lease=2)
    try:
        assert holder.stdout.readline() == "held\n"
        acquired = threading.Event()

        def wait_for_the_slot() -> None:
            with RedisLimiter(settings.REDIS_URL).slot(target):
                acquired.set()

        threading.Thread(target=wait_for_the_slot, daemon=True).start()
        assert not acquired.wait(3)  # longer than the lease: the living holder's renewals keep its slot
        os.kill(holder.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        assert acquired.wait(6), "the dead holder's slot was not given back"
        assert time.monotonic() - killed_at <= 3  # lease 2 s, plus the waiter's polling
    finally:
        holder.kill()
        holder.wait()
        RedisLimiter(settings.REDIS_URL).redis.delete(f"{target.name}:now", f"{target.name}:seen")


@pytest.mark.redis
def test_redis_live_holders_in_several_processes_are_never_over_admitted():
    # Every call holds its slot longer than the lease: only the renewals stop a third call from getting in.
    target = endpoint(concurrency=2)
    workers = [worker_start(target, threads=2, calls=2, hold=1.0, lease=0.6) for _ in range(2)]
    for worker in workers:
        worker.communicate(timeout=60)
        assert worker.returncode == 0
    redis = RedisLimiter(settings.REDIS_URL).redis
    seen = [int(count) for count in redis.lrange(f"{target.name}:seen", 0, -1)]
    redis.delete(f"{target.name}:now", f"{target.name}:seen")
    assert len(seen) == 8
    assert max(seen) == 2
    assert redis.zcard(f"persona-lab:llm:{target.name}:inflight") == 0
