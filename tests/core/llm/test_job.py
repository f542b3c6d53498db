from __future__ import annotations

import time

from core.jobs import JobRun, job_start, register_job_kind
from core.llm.models import LLMCall, ModelEndpoint
from core.llm.service import llm_complete_many
from core.models import Job, JobStatus
from tests.core.llm.requests import PERSONA, ab_request


@register_job_kind("tests.llm_judge", label="Test LLM judging")
def judge(run: JobRun) -> None:
    endpoint = ModelEndpoint.objects.get(pk=run.params["endpoint"])
    requests = [ab_request(f"Q{i}", cache_prefix=PERSONA, key=f"q{i}") for i in range(run.params["count"])]
    run.set_total(len(requests))
    for completion in llm_complete_many(endpoint=endpoint, requests=requests, run=run):
        run.advance(done=int(completion.valid), failed=int(not completion.valid))


def test_a_job_on_a_real_worker_sums_its_calls(celery_worker, make_endpoint, mock_llm):
    endpoint = make_endpoint("anthropic", base_url=mock_llm.url)
    job = job_start(kind="tests.llm_judge", params={"endpoint": endpoint.pk, "count": 8})

    deadline = time.monotonic() + 30
    while job.status != JobStatus.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()

    assert job.status == JobStatus.SUCCEEDED, job.error
    calls = LLMCall.objects.filter(job=job)
    assert calls.count() == job.done == 8
    assert job.cost_usd == sum(c.cost_usd for c in calls) > 0
    assert job.output_tokens == sum(c.output_tokens for c in calls)
    assert Job.objects.get(pk=job.pk).input_tokens == sum(
        c.input_tokens + c.cache_read_tokens + c.cache_write_tokens for c in calls
    )
