from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.annotation.prolific.fake import SPEC_PATH, FakeProlific, FakeServer, openapi


@pytest.fixture
def prolific(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProlific]:
    """The fake Prolific on a free port, with the app pointed at it. Fails the test on any request or response
    that does not match Prolific's OpenAPI document."""
    if not SPEC_PATH.exists():
        pytest.skip(f"needs Prolific's OpenAPI document at {SPEC_PATH}")
    from annotation.prolific import client

    openapi()  # load the document once, before the first request's clock starts
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    monkeypatch.setattr(client, "TIMEOUT_SECONDS", 2.0)
    monkeypatch.setattr(client, "BACKOFF_SECONDS", 0.01)
    fake = FakeProlific(timeout_delay=2.5)
    with FakeServer(fake):
        settings.PROLIFIC_API_URL = fake.url  # type: ignore[attr-defined]
        settings.PROLIFIC_API_TOKEN = fake.token  # type: ignore[attr-defined]
        settings.PROLIFIC_WEBHOOK_SECRET = fake.secret  # type: ignore[attr-defined]
        settings.PROLIFIC_WORKSPACE_ID = None  # type: ignore[attr-defined]
        logging.getLogger("annotation.prolific").setLevel(logging.INFO)
        yield fake
    assert fake.violations == [], "\n".join(fake.violations)
