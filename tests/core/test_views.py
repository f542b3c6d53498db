from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Job, JobStatus
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client):
    for url in (reverse("home"), reverse("job-list"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_login_page_and_health_are_public(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).json()["status"] == "ok"


def test_login_and_logout(client, coordinator, password):
    response = client.post(reverse("login"), {"username": coordinator.username, "password": password})
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert b"Coordinator" in page.content
    assert b'hx-headers=\'{"X-CSRFToken"' in page.content
    assert b"django_htmx/htmx-2.min.js" in page.content
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_nav_follows_the_role(client, analyst):
    client.force_login(analyst)
    assert b'href="/jobs/"' in client.get(reverse("home")).content
    client.force_login(UserFactory())
    assert b'href="/jobs/"' not in client.get(reverse("home")).content


def test_analyst_sees_jobs_but_cannot_start_or_cancel(client, analyst):
    job = JobFactory()
    client.force_login(analyst)
    page = client.get(reverse("job-list"))
    assert page.status_code == 200
    assert b"Recompute statistics" in page.content
    assert b"job-start" not in page.content
    assert client.post(reverse("job-start"), {"kind": "core.recompute_statistics"}).status_code == 403
    assert client.post(reverse("job-cancel", args=[job.pk])).status_code == 403


def test_user_without_role_cannot_see_jobs(client):
    client.force_login(UserFactory())
    assert client.get(reverse("job-list")).status_code == 403


def test_coordinator_starts_a_job_once_on_double_submit(client, coordinator, django_capture_on_commit_callbacks):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(2):
            response = client.post(reverse("job-start"), {"kind": "core.recompute_statistics"}, follow=True)
    assert response.status_code == 200
    assert Job.objects.count() == 1
    assert len(callbacks) == 1
    assert Job.objects.get().started_by == coordinator


def test_unknown_job_kind_is_a_clear_error(client, coordinator):
    client.force_login(coordinator)
    response = client.post(reverse("job-start"), {"kind": "<script>"}, follow=True)
    assert b"does not exist" in response.content
    assert Job.objects.count() == 0


def test_row_partial_polls_only_while_active(client, analyst):
    client.force_login(analyst)
    job = JobFactory()
    row = {"HX-Request": "true", "HX-Target": f"job-{job.pk}"}
    active = client.get(reverse("job-detail", args=[job.pk]), headers=row).content.decode()
    assert 'hx-trigger="every 1s"' in active
    assert active.lstrip().startswith(f'<tr id="job-{job.pk}"')
    assert "<html" not in active
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="<b>boom</b>", total=4, done=2)
    ended = client.get(reverse("job-detail", args=[job.pk]), headers=row).content.decode()
    assert ended.lstrip().startswith(f'<tr id="job-{job.pk}"')
    assert "hx-trigger" not in ended
    assert "&lt;b&gt;boom&lt;/b&gt;" in ended
    assert 'value="50"' in ended


def test_cancel_and_rerun_through_htmx(client, coordinator, django_capture_on_commit_callbacks):
    client.force_login(coordinator)
    job = JobFactory()
    response = client.post(reverse("job-cancel", args=[job.pk]), headers={"HX-Request": "true"})
    assert "Cancelled" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("job-rerun", args=[job.pk]), headers={"HX-Request": "true"})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert len(callbacks) == 1


def test_get_on_post_only_views_is_refused(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("job-start")).status_code == 405


def test_admin_lists_jobs_with_live_progress(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    job = JobFactory()
    page = client.get("/admin/core/job/").content.decode()
    assert f'id="job-progress-{job.pk}" hx-get="/jobs/{job.pk}/"' in page
    assert "htmx-2.min.js" in page
    headers = {"HX-Request": "true", "HX-Target": f"job-progress-{job.pk}"}
    progress = client.get(reverse("job-detail", args=[job.pk]), headers=headers).content.decode()
    assert progress.startswith(f'<span class="progress" id="job-progress-{job.pk}"')
    assert "every 2s" in progress


def test_one_url_per_job_full_page_or_the_fragment_htmx_asks_for(client, analyst):
    """``/jobs/<id>/`` is the job's page; an htmx poll gets the fragment its target names; the former addresses
    of the page and of the progress partial redirect there."""
    client.force_login(analyst)
    job = JobFactory()
    url = reverse("job-detail", args=[job.pk])
    assert url == f"/jobs/{job.pk}/"
    page = client.get(url).content.decode()
    assert "<html" in page
    assert 'id="job-facts"' in page
    state = client.get(url, headers={"HX-Request": "true", "HX-Target": "job-state"}).content.decode()
    assert state.lstrip().startswith('<section id="job-state"')
    assert "<html" not in state
    assert "job-facts" not in state
    for old in (f"/jobs/{job.pk}/page/", f"/jobs/{job.pk}/progress/"):
        response = client.get(old)
        assert response.status_code == 301
        assert response["Location"] == url
