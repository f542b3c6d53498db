"""A Celery worker killed with SIGKILL mid-stage: after the sweep and a re-run on a fresh worker, every pair is
there once — none lost, none duplicated (a real worker process, the mock LLM server, the real OpenAI SDK)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from benchmarks.datasets.models import ItemStatus
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import Stage, stage_answer_run, stage_start
from core.jobs import jobs_sweep_stalled
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.datasets.conftest import dataset_make, kept_prompts, personas_make
from tests.llm_mock import MockLLMServer
from tests.worker_process import wait_until, worker_kill, worker_process, worker_queue

KEY_ENV = "PERSONA_LAB_TEST_DATASET_KEY"
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_sigkilled_worker_mid_stage_resumes_without_loss_or_duplicates(transactional_db, monkeypatch):
    queue = worker_queue(monkeypatch)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    kept_prompts(8, 4)
    personas_make(8)
    with MockLLMServer(varied_text=True, latency=0.15) as mock:
        endpoint, _ = endpoint_upsert(
            name=f"kill-{uuid.uuid4().hex[:8]}",
            provider=Provider.OPENAI_COMPATIBLE,
            model="mock-model",
            base_url=mock.openai_url,
            api_key_env=KEY_ENV,
            concurrency=2,
            timeout_seconds=2,
        )
        dataset = dataset_make(generator=endpoint)
        dataset_plan(dataset=dataset)
        stage_answer_run(dataset=dataset)
        total = dataset.items.count()
        with worker_process(queue, key_env=KEY_ENV) as worker:
            job = stage_start(dataset=dataset, stage=Stage.CRITIQUE)
            wait_until(lambda: dataset.items.filter(status=ItemStatus.CRITIQUED).count() >= 5, timeout=120)
            worker_kill(worker)
        done_before = dataset.items.filter(status=ItemStatus.CRITIQUED).count()
        assert 5 <= done_before < total
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING  # the worker died without a word
        time.sleep(0.01)
        assert jobs_sweep_stalled(stall_after=timedelta(milliseconds=1)) == 1
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED  # the sweep sent it to a worker again: it resumes without a click
        with worker_process(queue, key_env=KEY_ENV):
            # The dead worker's concurrency leases expire first (timeout + 30 s), then the new worker gets its slots.
            wait_until(lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), 200)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert (job.total, job.done, job.failed) == (total, total, 0)
        assert dataset.items.filter(status=ItemStatus.CRITIQUED).count() == total
        assert all(dataset.items.values_list("critique", flat=True))
        critique_calls = [r for r in mock.state.requests if "Critique this answer" in str(r["body"])]
        assert len(critique_calls) < total + 10  # the resumed run asked only for what was left (plus in-flight)
