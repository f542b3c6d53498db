"""A stage's shards on real Celery workers: the in-process worker of either configuration (SQLite + filesystem
broker, PostgreSQL + Redis), and two worker processes that take shards side by side under one concurrency cap."""

from __future__ import annotations

import uuid

import pytest

from benchmarks.datasets.models import ItemStatus
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.shards import SHARD_JOB
from benchmarks.datasets.stages import Stage, stage_answer_run, stage_start
from benchmarks.pairs.models import PreferencePair
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.datasets.conftest import dataset_make, kept_prompts, personas_make
from tests.factories import wait_for
from tests.llm_mock import MockLLMServer
from tests.worker_process import wait_until, worker_process, worker_queue

KEY_ENV = "PERSONA_LAB_TEST_DATASET_KEY"
FINISHED = {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED}


def test_stages_run_as_shards_on_the_configured_worker(celery_worker, small_world, settings):
    settings.DATASET_SHARD_ITEMS = 8
    dataset = dataset_make()
    dataset_plan(dataset=dataset)
    for stage in (Stage.ANSWER, Stage.CRITIQUE, Stage.REVISE):
        job = wait_for(stage_start(dataset=dataset, stage=stage), FINISHED, timeout=120)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.done == job.total > 0
    shards = Job.objects.filter(kind=SHARD_JOB, params__dataset_id=dataset.pk)
    assert shards.count() >= 6  # critique and revision: one shard per persona of eight items
    assert set(shards.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert PreferencePair.objects.filter(dataset=dataset).count() == 24


@pytest.mark.postgres
@pytest.mark.redis
def test_two_worker_processes_take_shards_side_by_side_under_one_concurrency_cap(transactional_db, monkeypatch):
    queue = worker_queue(monkeypatch)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    monkeypatch.setenv("DATASET_SHARD_ITEMS", "8")  # the workers' setting: four personas, four shards
    kept_prompts(8, 4)
    personas_make(4)
    with MockLLMServer(varied_text=True, latency=0.2) as mock:
        endpoint, _ = endpoint_upsert(
            name=f"shards-{uuid.uuid4().hex[:8]}",
            provider=Provider.OPENAI_COMPATIBLE,
            model="mock-model",
            base_url=mock.openai_url,
            api_key_env=KEY_ENV,
            concurrency=3,
            timeout_seconds=5,
        )
        dataset = dataset_make(generator=endpoint)
        dataset_plan(dataset=dataset)
        stage_answer_run(dataset=dataset)
        total = dataset.items.count()
        with worker_process(queue, key_env=KEY_ENV), worker_process(queue, key_env=KEY_ENV):
            job = stage_start(dataset=dataset, stage=Stage.CRITIQUE)
            shards = Job.objects.filter(parent=job)
            # Each worker runs one job at a time: two shards running at once are two processes at work.
            wait_until(lambda: shards.filter(status=JobStatus.RUNNING).count() == 2, timeout=120)
            job = wait_for(job, FINISHED, timeout=200)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert (job.total, job.done, job.failed) == (total, total, 0)
        assert shards.count() == 4
        assert set(shards.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
        assert dataset.items.filter(status=ItemStatus.CRITIQUED).count() == total
        critiques = [r for r in mock.state.requests if "Critique this answer" in str(r["body"])]
        assert len(critiques) == total  # disjoint shards: each item asked once
        # The endpoint's cap holds across both processes (the limiter's leases live in Redis).
        assert mock.state.max_in_flight <= 3
