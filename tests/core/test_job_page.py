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


def test_a_job_with_failures_shows_its_reasons_its_endpoint_and_a_retry(client: Client, coordinator: object) -> None:
    from core.llm.endpoints import endpoint_upsert
    from core.llm.models import LLMCall
    from core.models import JobStatus
    from tests.factories import JobFactory

    endpoint, _ = endpoint_upsert(
        name="local-llama", provider="openai_compatible", model="qwen", base_url="http://127.0.0.1:8081/v1"
    )
    job = JobFactory(kind="benchmarks.judge_run", status=JobStatus.PARTIAL, total=6, done=2, failed=4)
    calls = [("a", ""), ("b", "Reply not in the options: 'maybe'\nraw: maybe")]
    calls += [(key, "Reply not in the options: 'maybe'\nraw: perhaps") for key in ("c", "d")]
    calls += [("e", "HTTP 500: server error"), ("f", "HTTP 500: server error")]
    LLMCall.objects.bulk_create(
        LLMCall(endpoint=endpoint, job=job, request_key=key, valid=not error, error=error) for key, error in calls
    )
    client.force_login(coordinator)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Finished with failures" in page
    assert "local-llama" in page
    assert "http://127.0.0.1:8081/v1" in page
    # Grouped by reason (the first line), most frequent first, with a count and one example each.
    reasons = page.index('Reply not in the options: &#x27;maybe&#x27;</td><td class="num">3</td>')
    assert reasons < page.index('HTTP 500: server error</td><td class="num">2</td>')
    assert "Retry the failed items" in page
    assert f'action="{reverse("job-rerun", args=[job.pk])}"' in page


def test_retry_from_the_job_page_queues_the_job_again(client: Client, coordinator: object) -> None:
    from core.models import JobStatus
    from tests.factories import JobFactory

    job = JobFactory(status=JobStatus.PARTIAL, total=4, done=3, failed=1)
    client.force_login(coordinator)
    response = client.post(reverse("job-rerun", args=[job.pk]), {"next": "detail"})
    assert response.status_code == 302
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
