from __future__ import annotations

import io
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse


@pytest.fixture
def console() -> io.StringIO:
    """The project's console handler (with its filters), writing into a buffer."""
    logging.config.dictConfig(settings.LOGGING)
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)


def test_a_403_logs_one_line_without_traceback(client: Client, analyst: object, console: io.StringIO) -> None:
    client.force_login(analyst)
    response = client.post(reverse("job-start"), {"kind": "core.recompute_statistics"})
    assert response.status_code == 403
    log = console.getvalue()
    assert "Forbidden" in log
    assert "Traceback" not in log


def test_other_errors_keep_their_traceback(console: io.StringIO) -> None:
    logger = logging.getLogger("django.request")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.error("Internal Server Error: /x", exc_info=True, extra={"status_code": 500})
    assert "Traceback" in console.getvalue()
