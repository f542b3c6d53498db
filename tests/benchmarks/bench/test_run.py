"""Bench runs end to end: offline models, the real SDKs against the mock server, garbage counted, resume."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer, BenchItem, Method, Verdict
from benchmarks.bench.results import bench_results
from benchmarks.bench.services import BENCH_RUN_JOB, bench_run_create, bench_run_execute, bench_run_start
from core.jobs import JobCancelled, JobRun
from core.llm import runner
from core.llm.echo import ECHO_ERROR
from core.models import Job, JobStatus
from tests.factories import JobFactory
from tests.llm_mock import MockLLMServer

pytestmark = pytest.mark.django_db


def _run(config: dict[str, Any]) -> Any:
    return bench_run_create(config=bench_config_parse(config))


def test_items_are_drawn_from_test_splits_seeded(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="m")
    endpoint(name="c", model="persona_overlap")
    config = {"name": "a", "models": ["m"], "critic": "c", "items": 8, "seed": 4}
    first, second = _run(config), _run(config)
    drawn = list(first.items.values_list("persona_id", "prompt_id", "pair_id"))
    assert drawn == list(second.items.values_list("persona_id", "prompt_id", "pair_id"))
    assert len(drawn) == 8
    test_pairs = {p.pk for p in bench_data["pairs"] if p.split != "train"}
    assert {pair for _, _, pair in drawn} <= test_pairs
    # A persona filter restricts the run; a prompt-split source crosses prompts with the matching personas.
    men = _run({**config, "items": 100, "persona_filter": {"sex": "Male", "age": "18-34"}})
    assert {item.persona.attributes["age"] for item in men.items.all()} == {"20", "30"}
    assert men.items.count() == 4
    crossed = _run({**config, "items": 100, "source": {"prompts": "train"}, "persona_filter": {"sex": "Female"}})
    assert crossed.items.count() == 3 * 3
    assert not crossed.items.filter(pair__isnull=False).exists()


def test_offline_run_end_to_end(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="offline-model")
    endpoint(name="offline-critic", model="persona_overlap")
    run = _run(
        {
            "name": "offline",
            "models": ["offline-model"],
            "critic": "offline-critic",
            "items": 12,
            "samples": 2,
            "k": 2,
            "slices": [{"sex": "Male"}],
        }
    )
    result = bench_run_execute(bench_run=run)
    assert result["answers"].stored == 12 * 4 * 2
    assert result["critic"].stored == 12 * 4 * 2
    assert result["summaries"].stored == 12 * 2
    answers = BenchAnswer.objects.filter(run=run)
    assert not answers.filter(verdict=Verdict.PENDING).exists()
    cot = answers.filter(method=Method.CHAIN_OF_THOUGHT).first()
    assert cot.intermediate
    assert cot.answer
    assert cot.critic_reasoning
    assert cot.personalization_critique
    assert answers.filter(method=Method.BASELINE).exclude(intermediate="").count() == 0
    summary = answers.filter(method=Method.DEMOGRAPHIC_SUMMARY).first()
    assert summary.dropped_attributes is not None
    # A second execution finds nothing left to do.
    again = bench_run_execute(bench_run=run)
    assert (again["answers"].requested, again["critic"].requested, again["summaries"].requested) == (0, 0, 0)
    tables = bench_results(run=run)["tables"]
    assert {row["n"] for row in tables["pass_rates"]["rows"]} == {24}
    assert [row["slice"] for row in tables["slices"]["rows"]][::4] == ["all personas", "sex = Male"]


@pytest.mark.parametrize("provider", ["anthropic", "openai_compatible", "openai_plain"])
def test_run_through_the_real_sdks(
    bench_data: dict[str, list[Any]], endpoint: Callable, provider: str, mock_llm: MockLLMServer
) -> None:
    if provider == "openai_plain":
        mock_llm.config.reject_json_schema = True
    url = mock_llm.url if provider == "anthropic" else mock_llm.openai_url
    kind = "anthropic" if provider == "anthropic" else "openai_compatible"
    endpoint(kind, "mock-model", name="sdk-model", base_url=url)
    endpoint(kind, "mock-critic", name="sdk-critic", base_url=url)
    run = _run({"name": "sdk", "models": ["sdk-model"], "critic": "sdk-critic", "items": 4})
    job = JobRun(JobFactory(status=JobStatus.RUNNING, kind=BENCH_RUN_JOB, params={"run_id": run.pk}))
    bench_run_execute(bench_run=run, job=job)
    answers = BenchAnswer.objects.filter(run=run)
    assert answers.count() == 16
    verdicts = Counter(answers.values_list("verdict", flat=True))
    assert set(verdicts) <= {Verdict.PASS, Verdict.REVISE}
    assert sum(verdicts.values()) == 16
    assert answers.filter(method=Method.DEMOGRAPHIC_SUMMARY).exclude(intermediate="").count() == 4
    assert not answers.filter(method=Method.DEMOGRAPHIC_SUMMARY, dropped_attributes__isnull=True).exists()
    job.job.refresh_from_db()
    assert job.job.done == job.job.total == 16 * 2 + 4
    assert job.job.input_tokens > 0
    assert job.job.cost_usd > 0
    assert answers.first().input_tokens > 0


def test_critic_garbage_is_counted_not_dropped(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="offline-model")
    with MockLLMServer() as critic_server:
        endpoint("anthropic", "mock-critic", name="garbage-critic", base_url=critic_server.url)
        run = _run(
            {
                "name": "g",
                "models": ["offline-model"],
                "critic": "garbage-critic",
                "items": 3,
                "methods": ["baseline", "persona"],
            }
        )
        critic_server.enqueue("offformat", "offformat", "malformed")
        bench_run_execute(bench_run=run)
    answers = BenchAnswer.objects.filter(run=run)
    assert answers.filter(verdict=Verdict.INVALID).count() == 3
    assert all(row.critic_error for row in answers.filter(verdict=Verdict.INVALID))
    rows = bench_results(run=run)["tables"]["pass_rates"]["rows"]
    assert sum(row["invalid"] for row in rows) == 3
    assert sum(row["n"] for row in rows) == 3  # an invalid critic reply is no verdict: counted apart, not as 0
    assert sum(row["passes"] for row in rows) == answers.filter(verdict=Verdict.PASS).count()


def test_invalid_critic_replies_are_asked_again_up_to_the_cap(
    bench_data: dict[str, list[Any]], endpoint: Callable, settings: Any
) -> None:
    settings.LLM_INVALID_RETRIES = 1
    endpoint(name="offline-model")
    with MockLLMServer() as critic_server:
        endpoint("anthropic", "mock-critic", name="garbage-critic", base_url=critic_server.url)
        run = _run(
            {
                "name": "g",
                "models": ["offline-model"],
                "critic": "garbage-critic",
                "items": 3,
                "methods": ["baseline", "persona"],
            }
        )
        critic_server.enqueue("offformat", "offformat", "offformat")
        bench_run_execute(bench_run=run)
        invalid = BenchAnswer.objects.filter(run=run, verdict=Verdict.INVALID)
        assert invalid.count() == 3
        critic_server.enqueue("offformat")  # one of the three is garbled again: its last allowed retry
        again = bench_run_execute(bench_run=run)
        assert again["critic"].requested == 3  # only the invalid ones
        assert (again["critic"].invalid, invalid.count()) == (1, 1)
        assert invalid.get().critic_attempts == 2
        third = bench_run_execute(bench_run=run)
        assert third["critic"].requested == 0  # past LLM_INVALID_RETRIES: kept invalid, asked no more


def test_outage_stores_nothing_and_a_rerun_finishes(bench_data: dict[str, list[Any]], endpoint: Callable) -> None:
    endpoint(name="offline-critic", model="persona_overlap")
    with MockLLMServer() as server:
        endpoint("anthropic", "mock-model", name="flaky", base_url=server.url, concurrency=1)
        run = _run({"name": "o", "models": ["flaky"], "critic": "offline-critic", "items": 2, "methods": ["persona"]})
        server.enqueue("500", "500")  # max_attempts=2: the first call fails twice and is given up
        first = bench_run_execute(bench_run=run)
        assert first["answers"].failed == 1
        assert BenchAnswer.objects.filter(run=run).count() == 1
        second = bench_run_execute(bench_run=run)
    assert second["answers"].requested == 1
    assert BenchAnswer.objects.filter(run=run).count() == 2


def test_cancelled_job_resumes_without_loss_or_duplicates(
    bench_data: dict[str, list[Any]], endpoint: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint(name="offline-model")
    endpoint(name="offline-critic", model="persona_overlap")
    run = _run(
        {"name": "r", "models": ["offline-model"], "critic": "offline-critic", "items": 12, "samples": 3, "k": 3}
    )
    job_row = JobFactory(status=JobStatus.RUNNING, kind=BENCH_RUN_JOB, params={"run_id": run.pk})
    original = JobRun.advance
    calls = {"n": 0}

    def advance_then_die(self: JobRun, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # the worker is stopped after a few flushes, in the critic's stage
            Job.objects.filter(pk=self.job.pk).update(status=JobStatus.CANCELLED)
        original(self, **kwargs)

    monkeypatch.setattr(JobRun, "advance", advance_then_die)
    monkeypatch.setattr(runner, "FLUSH_EVERY", 50)  # a few flushes per stage, so the stop lands mid-stage
    with pytest.raises(JobCancelled):
        bench_run_execute(bench_run=run, job=JobRun(job_row))
    stored = BenchAnswer.objects.filter(run=run)
    assert stored.count() == 12 * 4 * 3  # the answers were all stored before the stop …
    assert 0 < stored.filter(verdict=Verdict.PENDING).count() < 12 * 4 * 3  # … the verdicts only in part
    monkeypatch.setattr(JobRun, "advance", original)
    Job.objects.filter(pk=job_row.pk).update(status=JobStatus.RUNNING)  # what job_rerun + claim do
    job_row.refresh_from_db()
    bench_run_execute(bench_run=run, job=JobRun(job_row))
    job_row.refresh_from_db()
    answers = BenchAnswer.objects.filter(run=run)
    keys = list(answers.values_list("item_id", "endpoint_id", "method", "sample"))
    assert len(keys) == len(set(keys)) == 12 * 4 * 3
    assert not answers.filter(verdict=Verdict.PENDING).exists()
    assert job_row.done + job_row.failed == job_row.total == 12 * 4 * 3 * 2 + 12 * 3


@pytest.mark.django_db(transaction=True)
def test_job_runs_on_a_real_worker(celery_worker: object, endpoint: Callable, bench_data: Any) -> None:
    endpoint(name="offline-model")
    endpoint(name="offline-critic", model="persona_overlap")
    run = _run(
        {
            "name": "w",
            "models": ["offline-model"],
            "critic": "offline-critic",
            "items": 4,
            "methods": ["baseline", "demographic_summary"],
        }
    )
    job = bench_run_start(bench_run=run)
    assert bench_run_start(bench_run=run).pk == job.pk  # a double click starts one job
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.is_active:
            break
        time.sleep(0.2)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.done == job.total == 4 * 2 * 2 + 4
    assert BenchItem.objects.filter(run=run).count() == 4


def test_an_answer_that_echoes_its_instructions_is_refused_and_shown(
    bench_data: dict[str, list[Any]], endpoint: Callable
) -> None:
    endpoint(name="offline-critic", model="persona_overlap")
    with MockLLMServer() as server:
        endpoint("openai_compatible", "mock-model", name="parrot", base_url=server.openai_url, concurrency=1)
        run = _run({"name": "e", "models": ["parrot"], "critic": "offline-critic", "items": 2, "methods": ["baseline"]})
        server.enqueue("echo_reasoning")  # the first answer repeats the method's instructions
        result = bench_run_execute(bench_run=run)
    answers = list(BenchAnswer.objects.filter(run=run))
    echoed = [a for a in answers if a.verdict == Verdict.NO_ANSWER]
    assert len(answers) == 2
    assert len(echoed) == 1
    assert echoed[0].answer_error.startswith(ECHO_ERROR)
    assert echoed[0].answer == ""
    assert echoed[0].answer_raw  # the reply stays for the record
    assert (result["answers"].stored, result["answers"].invalid) == (2, 1)
