"""Redis down under participants' autosaves: sessions, the save limiter and the login throttle must not need it."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import QUESTIONS, App, Web, wait_for
from tests.faults.participants import Autosaves
from tests.faults.services import RedisServer
from tests.faults.test_database import assert_nothing_lost_or_doubled

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]  # the first scenario builds the services too

OUTAGE_SECONDS = 8


def test_redis_stopped_participants_still_save(app: App, web: Web, redis_server: RedisServer) -> None:
    """Redis stops for 8 s while 8 participants autosave: their saves keep being acknowledged (sessions fall back
    to the database, the limiter lets saves through), and nothing acknowledged is lost once it is back."""
    pids = [f"redisdown{i:02d}" for i in range(8)]
    with Autosaves(web.base, app.study, pids, QUESTIONS) as saves:
        time.sleep(2)
        redis_server.stop()
        stopped = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        during = saves.acknowledged_after(stopped + 1)
        redis_server.start()
        back = time.monotonic()
        wait_for(lambda: set(pids) <= saves.acknowledged_after(back), timeout=30, what="saves after Redis is back")
    assert_nothing_lost_or_doubled(app, saves)
    assert during == set(pids), f"participants without an acknowledged save while Redis was down: {set(pids) - during}"
