"""A Celery worker killed with SIGKILL mid-run: after the sweep, Resume on a fresh worker finishes the bench run with
every (item, model, method, sample) answered and judged once (a real worker process, the mock server, the real
Anthropic SDK)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer, Verdict
from benchmarks.bench.services import bench_run_create, bench_run_start
from core.jobs import jobs_sweep_stalled
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.bench.conftest import KEY_ENV
from tests.llm_mock import MockLLMServer
from tests.worker_process import wait_until, worker_kill, worker_process, worker_queue

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_sigkilled_worker_mid_run_resumes_without_loss_or_duplicates(transactional_db, bench_data, monkeypatch) -> None:
    queue = worker_queue(monkeypatch)
    with MockLLMServer(latency=0.15) as mock:
        for name in ("kill-model", "kill-critic"):
            endpoint_upsert(
                name=f"{name}",
                provider=Provider.ANTHROPIC,
                model="mock",
                base_url=mock.url,
                api_key_env=KEY_ENV,
                concurrency=2,
                timeout_seconds=5,
            )
        run = bench_run_create(
            config=bench_config_parse(
                {
                    "name": "kill",
                    "models": ["kill-model"],
                    "critic": "kill-critic",
                    "items": 12,
                    "samples": 2,
                    "k": 2,
                    "methods": ["baseline", "persona"],
                }
            )
        )
        keys = 12 * 2 * 2
        with worker_process(queue, key_env=KEY_ENV) as worker:
            job = bench_run_start(bench_run=run)
            wait_until(lambda: BenchAnswer.objects.filter(run=run).count() >= 8)
            worker_kill(worker)
        stored = BenchAnswer.objects.filter(run=run)
        assert stored.count() >= 8
        assert stored.exclude(verdict=Verdict.PENDING).count() < keys  # killed mid-run: verdicts are missing
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING  # the worker died without a word
        time.sleep(0.01)
        assert jobs_sweep_stalled(stall_after=timedelta(milliseconds=1)) == 1
        run.refresh_from_db()
        with worker_process(queue, key_env=KEY_ENV):
            resumed = bench_run_start(bench_run=run)  # the page's Resume: a re-run of the same job
            assert resumed.pk == job.pk
            wait_until(lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), 90)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    answers = BenchAnswer.objects.filter(run=run)
    rows = list(answers.values_list("item_id", "endpoint_id", "method", "sample"))
    assert len(rows) == len(set(rows)) == keys
    assert not answers.filter(verdict=Verdict.PENDING).exists()
    assert job.done + job.failed == job.total == 2 * keys
    answer_calls = [
        r for r in mock.state.requests if "<question>" in str(r["body"]) and "<answer>" not in str(r["body"])
    ]
    assert len(answer_calls) < keys + 10  # the resumed run asked only for what was left (plus what was in flight)
