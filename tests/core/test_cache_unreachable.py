"""Each user of the cache on its own terms when Redis cannot be reached (a port nothing listens on): sessions fall back
to the database, participant rate limits let requests through, recomputable values are recomputed; and the error page
renders without a database. tests/core/test_redis_down.py drives the same through a real server."""

from __future__ import annotations

import socket

import pytest
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.views.defaults import server_error

from annotation.ratelimit import rate_limited
from core.cache import recompute_get, recompute_set
from core.sessions import SessionStore


def _dead_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # closed again: nothing listens there


@pytest.fixture
def redis_unreachable(settings: object) -> None:
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": _dead_redis_url(),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_unreachable")
def test_sessions_are_written_to_and_read_from_the_database() -> None:
    session = SessionStore()
    session["participants"] = {"study": 7}
    session.save()
    assert Session.objects.filter(session_key=session.session_key).exists()
    again = SessionStore(session.session_key)
    assert again["participants"] == {"study": 7}
    old_key = again.session_key
    again.cycle_key()  # a participant's entry and a login rotate the key
    assert again.session_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert SessionStore(again.session_key)["participants"] == {"study": 7}
    again.flush()  # logout
    assert not Session.objects.filter(session_key=old_key).exists()


@pytest.mark.usefixtures("redis_unreachable")
def test_participant_rate_limits_let_requests_through() -> None:
    assert not any(rate_limited(scope="save", key="p1", limit=1) for _ in range(5))


@pytest.mark.usefixtures("redis_unreachable")
def test_recomputable_values_are_misses() -> None:
    recompute_set("figure", b"png", timeout=60)
    assert recompute_get("figure") is None


@pytest.mark.django_db
def test_the_error_page_renders_without_the_database(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/s/some-study/q/1/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Your answers so far are kept." in page
    # The Content-Security-Policy allows neither inline scripts nor inline styles.
    assert "<script" not in page
    assert "style=" not in page
