"""An endpoint outage in the middle of a judge run on a real worker: waited out within the endpoint's retry budget
(the job's page says what it waits for), or, past the budget, left for *Retry the failed items* — never dropped,
never stored twice. The mock server is stopped (connections refused) and started again on the same port."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from django.urls import reverse

from benchmarks.judging.models import Judge, Judgment
from benchmarks.judging.services import judge_run_start, judge_upsert
from core.llm import faults
from core.llm.endpoints import endpoint_upsert
from core.models import Job, JobStatus
from tests.annotation.factories import pairs_make, persona_make
from tests.llm_mock import MockLLMServer

KEY_ENV = "PERSONA_LAB_TEST_OUTAGE_KEY"
# Longer than the old fixed retries (6 tries, about 11-15 s of back-off) that dropped the items of a 60 s outage.
OUTAGE_SECONDS = 16.0


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tries every second or two during the outage (the real cap is 10 s): the test notices the restart sooner.
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.05)
    monkeypatch.setattr(faults, "RETRY_CAP_SECONDS", 2.0)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")


@pytest.fixture
def slow_llm() -> MockLLMServer:
    with MockLLMServer(latency=0.3) as server:
        yield server


def _judge(server: MockLLMServer, *, budget: float) -> Judge:
    endpoint, _ = endpoint_upsert(
        name=f"local-{uuid.uuid4().hex[:8]}",
        provider="openai_compatible",
        model="mock-model",
        base_url=server.openai_url,
        concurrency=2,
        timeout_seconds=5.0,
        retry_budget_seconds=budget,
    )
    assert endpoint.max_attempts is None  # no cap on tries: the time budget decides
    return judge_upsert(name=f"judge-{uuid.uuid4().hex[:8]}", endpoint=endpoint, with_confidence=False)


def _items(personas: int, pairs: int) -> list[tuple[int, int]]:
    people = [persona_make(i) for i in range(personas)]
    made = pairs_make(pairs, prefix=f"Outage {uuid.uuid4().hex[:6]}")
    return [(person.pk, pair.pk) for person in people for pair in made]


def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _finished(job: Job, timeout: float = 90) -> Job:
    _until(lambda: Job.objects.get(pk=job.pk).status not in (JobStatus.QUEUED, JobStatus.RUNNING), timeout, "the job")
    job.refresh_from_db()
    return job


def _stored_once(judge: Judge, items: list[tuple[int, int]]) -> None:
    keys = Counter(Judgment.objects.filter(judge=judge).values_list("persona_id", "pair_id", "order", "sample"))
    assert len(keys) == len(items) * 2  # every item in both orders…
    assert set(keys.values()) == {1}  # …exactly once
    assert not Judgment.objects.filter(judge=judge, choice="invalid").exists()


def test_an_outage_shorter_than_the_retry_budget_is_waited_out_and_loses_nothing(
    celery_worker, slow_llm, client, coordinator
):
    judge = _judge(slow_llm, budget=40)
    items = _items(personas=2, pairs=3)
    job = judge_run_start(judge=judge, items=items)
    _until(lambda: len(slow_llm.state.requests) >= 3, 30, "the first answers")
    slow_llm.stop()
    stopped = time.monotonic()

    # While the calls retry, the job's page says which endpoint it waits for, and where.
    client.force_login(coordinator)
    waiting = f"Waiting for {judge.endpoint.name} ({slow_llm.openai_url})"
    _until(lambda: waiting in Job.objects.get(pk=job.pk).error, 15, "the waiting note")
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert waiting in page
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING

    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    slow_llm.restart()
    job = _finished(job)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.done, job.failed, job.total) == (len(items) * 2, 0, len(items) * 2)
    assert job.error == ""  # the waiting note went once the endpoint answered again
    _stored_once(judge, items)


def test_an_outage_longer_than_the_budget_ends_resumable_and_the_retry_button_stores_each_item_once(
    celery_worker, slow_llm, client, coordinator
):
    judge = _judge(slow_llm, budget=2)
    items = _items(personas=2, pairs=2)
    job = judge_run_start(judge=judge, items=items)
    _until(lambda: len(slow_llm.state.requests) >= 2, 30, "the first answers")
    slow_llm.stop()
    job = _finished(job)

    # Nothing dropped, nothing claimed done: the items the outage hit are failed and resumable.
    assert job.status in (JobStatus.PARTIAL, JobStatus.FAILED), job.error
    assert job.failed > 0
    assert job.done + job.failed == job.total == len(items) * 2
    assert Judgment.objects.filter(judge=judge).count() == job.done
    client.force_login(coordinator)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Retry the failed items" in page
    assert f"{judge.endpoint.name} ({slow_llm.openai_url}) still failing after" in page  # the reason names it

    slow_llm.restart()
    answered, failed_before = len(slow_llm.state.requests), job.failed
    response = client.post(reverse("job-rerun", args=[job.pk]), {"next": "detail"})
    assert response.status_code == 302
    job = _finished(job)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.done, job.failed) == (len(items) * 2, 0)
    _stored_once(judge, items)
    # The retry asked only what the outage left: the items stored before it were not asked again.
    assert len(slow_llm.state.requests) - answered == failed_before
