from __future__ import annotations

import time
import uuid
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from benchmarks.judging.aggregate import aggregated_answer, order_answer
from benchmarks.judging.models import Judge, Judgment
from benchmarks.judging.prompts import choice_from_letter, judgment_request, persona_profile
from benchmarks.judging.services import judge_run_start, judge_upsert, judgment_keys, judgments_run
from core.jobs import job_rerun, job_start
from core.llm import faults
from core.llm.endpoints import endpoint_upsert
from core.llm.models import LLMCall
from core.models import Job, JobStatus
from tests.annotation.factories import pairs_make, persona_make
from tests.llm_mock import MockLLMServer

KEY_ENV = "PERSONA_LAB_TEST_JUDGE_KEY"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")


@pytest.fixture
def mock_llm() -> MockLLMServer:
    with MockLLMServer() as server:
        yield server


def _judge(provider: str, model: str, *, base_url: str = "", **fields: object) -> Judge:
    endpoint, _ = endpoint_upsert(
        name=f"test-{uuid.uuid4().hex[:8]}",
        provider=provider,
        model=model,
        base_url=base_url,
        api_key_env="" if provider == "offline" else KEY_ENV,
        concurrency=4,
        max_attempts=2,
        timeout_seconds=5.0,
    )
    return judge_upsert(name=f"judge-{uuid.uuid4().hex[:8]}", endpoint=endpoint, **fields)


def _items(personas: int = 2, pairs: int = 3, *, prefix: str = "Question") -> list[tuple[int, int]]:
    people = [persona_make(i) for i in range(personas)]
    made = pairs_make(pairs, prefix=prefix)
    return [(person.pk, pair.pk) for person in people for pair in made]


def _wait(job: Job, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    return job


def test_offline_judge_on_a_real_worker_judges_both_orders_and_a_rerun_adds_nothing(celery_worker):
    judge = _judge("offline", "always_a")
    items = _items()
    job = _wait(judge_run_start(judge=judge, items=items))

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.total == job.done == len(items) * 2
    stored = Judgment.objects.filter(judge=judge)
    assert stored.count() == len(items) * 2
    # always-A picks the answer shown first: the chosen one in AB, the rejected one in BA.
    assert set(stored.filter(order="AB").values_list("choice", flat=True)) == {"chosen"}
    assert set(stored.filter(order="BA").values_list("choice", flat=True)) == {"rejected"}
    assert all(j.picked_first for j in stored)

    first_ids = set(stored.values_list("pk", flat=True))
    calls = LLMCall.objects.count()
    again = _wait(job_start(kind="benchmarks.judge_run", params={**job.params, "again": 1}))
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert again.done == again.total == len(items) * 2  # all already there
    assert set(Judgment.objects.filter(judge=judge).values_list("pk", flat=True)) == first_ids
    assert LLMCall.objects.count() == calls  # nothing was asked again


def test_anthropic_judge_on_a_real_worker_counts_garbage_replies_as_invalid(celery_worker, mock_llm):
    judge = _judge("anthropic", "mock-model", base_url=mock_llm.url)
    items = _items(personas=1, pairs=2)
    garbage = _items(personas=1, pairs=1, prefix="[[mock:offformat]] Garbled")
    job = _wait(judge_run_start(judge=judge, items=items + garbage))

    assert job.status == JobStatus.PARTIAL, job.error  # some items failed: never "succeeded"
    assert job.total == 6
    assert job.failed == 2  # both orders of the garbled item
    assert job.done == 4
    assert job.input_tokens > 0
    stored = Judgment.objects.filter(judge=judge)
    assert Counter(stored.values_list("order", flat=True)) == {"AB": 3, "BA": 3}
    invalid = stored.filter(choice="invalid")
    assert invalid.count() == 2
    assert {j.pair_id for j in invalid} == {garbage[0][1]}
    assert all(j.error and j.raw for j in invalid)
    valid = stored.exclude(choice="invalid")
    assert all(j.choice in ("chosen", "rejected", "abstain") and j.confidence == 70 for j in valid)
    assert all(j.reasoning.startswith("Mock reasoning") for j in valid)
    # The persona went to the model as the cached system prefix, the two answers in the order shown.
    body = mock_llm.state.requests[0]["body"]
    system = body["system"]
    assert "Become the person" in system[0]["text"]
    assert system[1]["text"].startswith("The person you will become")
    assert "cache_control" in system[1]
    assert "Answer A:" in body["messages"][0]["content"]


@pytest.mark.django_db
def test_openai_compatible_judge_in_process_and_rerun_skips(mock_llm):
    judge = _judge("openai_compatible", "mock-model", base_url=mock_llm.openai_url, samples=2)
    items = _items(personas=1, pairs=2)
    result = judgments_run(judge=judge, items=items)
    assert (result.requested, result.stored, result.invalid, result.failed, result.skipped) == (8, 8, 0, 0, 0)
    assert set(Judgment.objects.filter(judge=judge).values_list("sample", flat=True)) == {0, 1}
    again = judgments_run(judge=judge, items=items)
    assert (again.requested, again.skipped) == (0, 8)
    assert Judgment.objects.filter(judge=judge).count() == 8


@pytest.mark.django_db
def test_transient_failures_store_nothing_so_a_rerun_asks_again(mock_llm):
    judge = _judge("anthropic", "mock-model", base_url=mock_llm.url, with_confidence=False)
    # Each order's request fails twice (an outage); with max_attempts=2 the first run gives up on both.
    items = _items(personas=1, pairs=1, prefix="[[mock:500*2]] Outage")
    first = judgments_run(judge=judge, items=items)
    assert (first.failed, first.stored) == (2, 0)
    second = judgments_run(judge=judge, items=items)
    assert (second.requested, second.stored, second.skipped) == (2, 2, 0)
    assert Judgment.objects.filter(judge=judge).count() == 2


def test_a_judge_run_with_failed_calls_finishes_with_failures_and_a_retry_asks_only_those(
    celery_worker, mock_llm, client, coordinator
):
    judge = _judge("anthropic", "mock-model", base_url=mock_llm.url, with_confidence=False)
    good = _items(personas=1, pairs=2)
    # Both orders of this item hit an outage (twice each; max_attempts=2): the first run gives up on them.
    outage = _items(personas=1, pairs=1, prefix="[[mock:500*2]] Outage")
    job = _wait(judge_run_start(judge=judge, items=good + outage))
    assert job.status == JobStatus.PARTIAL, job.error
    assert (job.done, job.failed) == (4, 2)
    assert "2 of 6 items failed" in job.error
    client.force_login(coordinator)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Finished with failures" in page
    assert "Failed calls by reason" in page
    assert judge.endpoint.name in page
    assert mock_llm.url in page
    assert "Retry the failed items" in page

    asked = len(mock_llm.state.requests)
    job = _wait(job_rerun(job=job))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.done, job.failed) == (6, 0)
    assert len(mock_llm.state.requests) == asked + 2  # only the two failed items were asked again
    assert Judgment.objects.filter(judge=judge).count() == 6


def test_a_judge_run_whose_calls_all_failed_ends_failed(celery_worker, mock_llm):
    judge = _judge("anthropic", "mock-model", base_url=mock_llm.url, with_confidence=False)
    job = _wait(judge_run_start(judge=judge, items=_items(personas=1, pairs=1, prefix="[[mock:500]] Down")))
    assert job.status == JobStatus.FAILED
    assert (job.done, job.failed) == (0, 2)
    assert job.can_rerun


@pytest.mark.django_db
def test_invalid_replies_stay_stored_and_are_asked_again_up_to_the_cap(mock_llm, settings):
    settings.LLM_INVALID_RETRIES = 1
    judge = _judge("anthropic", "mock-model", base_url=mock_llm.url, with_confidence=False)
    good = _items(personas=1, pairs=1)
    # Garbled the first two times each order is asked: invalid, invalid again on the retry, then given up.
    garbled = _items(personas=1, pairs=1, prefix="[[mock:offformat*2]] Garbled")
    first = judgments_run(judge=judge, items=good + garbled)
    assert (first.stored, first.invalid) == (4, 2)
    invalid = Judgment.objects.filter(judge=judge, choice="invalid")
    assert set(invalid.values_list("attempts", flat=True)) == {1}
    second = judgments_run(judge=judge, items=good + garbled)
    assert (second.requested, second.invalid, second.skipped) == (2, 2, 2)  # only the invalid ones again
    assert Judgment.objects.filter(judge=judge).count() == 4  # replaced, not added
    assert set(invalid.values_list("attempts", flat=True)) == {2}
    third = judgments_run(judge=judge, items=good + garbled)
    assert third.requested == 0  # past LLM_INVALID_RETRIES: kept invalid, asked no more
    settings.LLM_INVALID_RETRIES = 2
    fourth = judgments_run(judge=judge, items=good + garbled)
    assert (fourth.requested, fourth.invalid) == (2, 0)  # the mock's fault is spent: readable replies now
    assert not Judgment.objects.filter(judge=judge, choice="invalid").exists()
    assert set(Judgment.objects.filter(judge=judge, pair_id=garbled[0][1]).values_list("attempts", flat=True)) == {3}


@pytest.mark.django_db
def test_request_wording_and_letter_mapping():
    judge = _judge("offline", "persona_overlap", with_confidence=True, allow_abstain=True)
    persona = persona_make(3)
    pair = pairs_make(1, prefix="Wording")[0]
    request = judgment_request(judge=judge, persona=persona, pair=pair, order="BA", sample=1)
    assert "Become the person" in request.system
    assert "0 (a guess) to 100" in request.system
    assert '"abstain"' in request.system
    assert request.cache_prefix == persona_profile(persona)
    assert "Age: 33" in request.cache_prefix
    assert request.choice.options_text == (pair.rejected, pair.chosen)  # BA: rejected shown as A
    assert request.sample == 1
    assert request.choice.allow_abstain
    assert (choice_from_letter("A", "AB"), choice_from_letter("A", "BA")) == ("chosen", "rejected")
    assert (choice_from_letter("B", "AB"), choice_from_letter("B", "BA")) == ("rejected", "chosen")
    assert choice_from_letter("abstain", "AB") == "abstain"
    assert choice_from_letter(None, "AB") == "invalid"
    assert len(judgment_keys(judge=judge, items=[(1, 2), (1, 2)])) == 2  # duplicates collapse; 2 orders x 1


def test_order_aggregation_rules():
    assert order_answer([]) is None
    assert order_answer(["chosen", "chosen", "rejected"]) == "chosen"
    assert order_answer(["chosen", "rejected"]) == "abstain"
    assert order_answer(["abstain", "invalid"]) == "abstain"
    assert order_answer(["invalid", "invalid"]) == "invalid"
    assert aggregated_answer("chosen", "chosen") == "chosen"
    assert aggregated_answer("rejected", "rejected") == "rejected"
    assert aggregated_answer("chosen", "rejected") == "abstain"  # flips with the order: position, not preference
    assert aggregated_answer("chosen", "abstain") == "abstain"
    assert aggregated_answer("chosen", "invalid") == "abstain"
    assert aggregated_answer("invalid", "invalid") == "invalid"
    assert aggregated_answer("chosen", None) is None


@pytest.mark.django_db
def test_management_commands_create_and_run_a_judge():
    endpoint_upsert(name="cmd-offline", provider="offline", model="shorter_answer")
    out = StringIO()
    call_command("judge", "cmd-judge", "--endpoint", "cmd-offline", "--samples", "1", "--no-confidence", stdout=out)
    assert "Judge cmd-judge" in out.getvalue()
    persona = persona_make(1)
    pairs = pairs_make(2, prefix="Command")
    out = StringIO()
    call_command("judge_run", "cmd-judge", "--persona", str(persona.pk), *[f"--pair={p.pk}" for p in pairs], stdout=out)
    assert "4 stored (0 invalid)" in out.getvalue()
    assert Judgment.objects.filter(judge__name="cmd-judge").count() == 4


@pytest.mark.django_db
def test_baseline_judges_command_is_idempotent():
    out = StringIO()
    call_command("judge", "--baselines", stdout=out)
    call_command("judge", "--baselines", stdout=out)
    assert "baseline-persona-overlap" in out.getvalue()
    assert Judge.objects.filter(name__startswith="baseline-", endpoint__provider="offline").count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad name<script>", "--endpoint", "cmd-offline"], "name: Enter a valid “slug”"),
        (["x" * 65, "--endpoint", "cmd-offline"], "name: Ensure this value has at most 64 characters"),
        (["ok-name", "--endpoint", "cmd-offline", "--samples", "0"], "judge_samples_positive"),
    ],
)
def test_judge_command_checks_names_as_the_admin_does(args, message):
    from django.core.management.base import CommandError

    endpoint_upsert(name="cmd-offline", provider="offline", model="shorter_answer")
    with pytest.raises(CommandError, match=message):
        call_command("judge", *args, stdout=StringIO())
    assert not Judge.objects.exists()
