"""Whether the job queue (Celery's broker) answers, asked the way a page can afford: once, with a short timeout.

A job's truth is its ``core.Job`` row. When the broker cannot take a job's message, the row stays queued and the
sweep sends it again once the broker is back (``core.jobs``); the jobs page says the queue is unreachable meanwhile.
"""

from __future__ import annotations

import logging

import redis
from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 1.0
# What sending a message raises when the broker cannot be reached (kombu wraps the transport's connection errors).
BROKER_ERRORS: tuple[type[Exception], ...] = (OperationalError,)


def broker_reachable() -> bool:
    """True when the broker accepts a connection within ``PROBE_TIMEOUT_SECONDS`` (always on the embedded
    filesystem broker, which is a folder)."""
    if settings.EMBEDDED_BROKER:
        return True
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            # redis-py directly: kombu's connect retries with back-off inside redis-py (two seconds when refused).
            timeout = PROBE_TIMEOUT_SECONDS
            with redis.Redis.from_url(
                url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
            ) as client:
                client.ping()
        else:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0, timeout=PROBE_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to reach it means the same to the page: unreachable
        logger.warning("job queue unreachable (%s: %s)", type(exc).__name__, exc)
        return False
    return True
