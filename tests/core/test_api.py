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


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "99999999999999999999"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "99999999999999999999"}, "offset"),
        ({"offset": "x"}, "offset"),
    ],
)
def test_bad_limit_or_offset_is_a_clear_400(analyst, query, message):
    client = APIClient()
    client.force_authenticate(analyst)
    response = client.get("/api/jobs/", query)
    assert response.status_code == 400
    assert message in response.json()


def test_limit_is_capped_and_pages_work(analyst):
    JobFactory.create_batch(3)
    client = APIClient()
    client.force_authenticate(analyst)
    body = client.get("/api/jobs/", {"limit": 1000, "offset": 1}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert len(client.get("/api/jobs/", {"limit": 1}).json()["results"]) == 1
