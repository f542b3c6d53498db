from __future__ import annotations

import pytest
from django.test import Client

from core.csp import HEADER, INLINE_POLICY, STRICT_POLICY


@pytest.mark.django_db
def test_every_page_carries_the_strict_policy(client: Client, coordinator) -> None:
    assert client.get("/accounts/login/")[HEADER] == STRICT_POLICY
    client.force_login(coordinator)
    for url in ("/", "/jobs/", "/personas/", "/studies/", "/api/jobs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response[HEADER] == STRICT_POLICY, url
    assert "'unsafe-inline'" not in STRICT_POLICY
    assert "frame-ancestors 'none'" in STRICT_POLICY


@pytest.mark.django_db
def test_only_the_api_docs_may_inline(client: Client) -> None:
    for url in ("/api/docs/", "/api/redoc/"):
        assert client.get(url)[HEADER] == INLINE_POLICY
    # Swagger UI's own script is a separate file, so it loads under the policy.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
