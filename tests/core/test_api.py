from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_jobs_need_authentication():
    assert APIClient().get("/api/jobs/").status_code in (401, 403)


def test_analyst_reads_jobs_with_a_token(analyst):
    job = JobFactory(total=10, done=4)
    token = Token.objects.create(user=analyst)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = client.get("/api/jobs/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == job.pk
    assert row["percent"] == 40
    assert row["status"] == "queued"
    assert client.get(f"/api/jobs/{job.pk}/").json()["done"] == 4
    assert client.get("/api/jobs/", {"status": "failed"}).json()["count"] == 0


def test_api_is_read_only(coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)
    assert client.post("/api/jobs/", {}).status_code == 405


def test_user_without_role_cannot_read_jobs():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/jobs/").status_code == 403


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    assert "/api/jobs/" in schema.content.decode()
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()
