from __future__ import annotations

from django.test import Client
from django.urls import reverse


def test_the_jobs_page_links_each_job_to_its_own_page(client: Client, coordinator: object) -> None:
    from core.jobs import job_start

    client.force_login(coordinator)
    job = job_start(kind="core.recompute_statistics", started_by=coordinator)
    html = client.get(reverse("job-list")).content.decode()
    assert f'href="{reverse("job-detail", args=[job.pk])}"' in html
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "What was asked for" in page
