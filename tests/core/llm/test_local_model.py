"""Every LLM feature against a real model server: llama-cpp-python's OpenAI-compatible server running Gemma 3 270M
(the ``local-model`` dependency group), started by ``manage.py llm_local_server`` and registered as an ordinary
``openai_compatible`` endpoint. Skipped, saying why, where the group is not installed; CI installs it.

A 270M model on two shared cores: a few items each. What is asserted is that real replies are stored and counted
truthfully (valid or invalid, never dropped, never "succeeded" with failures), not how good the model is.
"""

from __future__ import annotations

import io
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer
from benchmarks.bench.services import bench_run_create, bench_run_execute
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.datasets.verification import dataset_verify
from benchmarks.judging.models import Judge, Judgment
from benchmarks.judging.services import judge_run_start, judge_upsert
from benchmarks.pairs.models import PairSplit, PreferencePair, VerificationVerdict
from benchmarks.prompts.models import Prompt, text_digest
from core.llm import local_server
from core.llm.models import ModelEndpoint
from core.models import Job, JobStatus
from personas.llm_check import personas_llm_check
from personas.models import Persona
from tests.benchmarks.datasets.conftest import kept_prompts
from tests.personas.factories import ADULT, PersonaFactory

MISSING = local_server.local_model_missing()
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(MISSING is not None, reason=f"needs the local model: {MISSING}"),
]
MANAGE_PY = Path(__file__).resolve().parents[3] / "manage.py"


@pytest.fixture(scope="module")
def server() -> Iterator[local_server.LocalServerProcess]:
    process = local_server.LocalServerProcess(port=local_server.free_port(), manage_py=MANAGE_PY)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def endpoint(server: local_server.LocalServerProcess, db: None) -> ModelEndpoint:
    name = f"local-{uuid.uuid4().hex[:6]}"
    options = local_server.endpoint_options(url=server.url, context=server.context)
    call_command("llm_endpoint", name, *options, stdout=io.StringIO())
    return ModelEndpoint.objects.get(name=name)


def _people(n: int) -> list[Persona]:
    return [
        PersonaFactory(attributes={**ADULT, "age": str(25 + 20 * i), "sex": ("Female", "Male")[i % 2]})
        for i in range(n)
    ]


def _pairs(persona: Persona, n: int, split: str = PairSplit.TEST_SEEN) -> list[PreferencePair]:
    pairs = []
    for i in range(n):
        text = f"Should my town build a new {('library', 'stadium', 'park')[i % 3]}? ({uuid.uuid4().hex[:6]})"
        prompt = Prompt.objects.create(text=text, text_sha256=text_digest(text))
        pairs.append(
            PreferencePair.objects.create(
                persona=persona,
                prompt=prompt,
                chosen="Yes: it would give people a place to meet, and the cost is modest.",
                rejected="No.",
                split=split,
            )
        )
    return pairs


def _judge(endpoint: ModelEndpoint) -> Judge:
    return judge_upsert(name=f"judge-{uuid.uuid4().hex[:6]}", endpoint=endpoint, with_confidence=False)


def _finished(job: Job, timeout: float = 600) -> Job:
    deadline = time.monotonic() + timeout
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    return job


def test_llm_check_passes_and_reports_the_structured_output_mode(endpoint):
    out = io.StringIO()
    call_command("llm_check", endpoint.name, "--no-cache-check", stdout=out)  # caching: minutes on 2 cores
    report = out.getvalue()
    assert f"base URL:   {endpoint.base_url}" in report
    assert "structured: json_object" in report  # llama-cpp-python answers json_schema with a 500
    assert "system msg: kept" in report  # the launcher's chat format folds it into the first user turn
    assert "OK" in report.splitlines()[-1]
    endpoint.refresh_from_db()
    assert endpoint.structured_output == "json_object"


def test_a_judge_run_in_both_orders_stores_every_reply(celery_worker, endpoint):
    persona = _people(1)[0]
    pairs = _pairs(persona, 2)
    judge = _judge(endpoint)
    job = _finished(judge_run_start(judge=judge, items=[(persona.pk, pair.pk) for pair in pairs]))

    stored = Judgment.objects.filter(judge=judge)
    assert Counter(stored.values_list("order", flat=True)) == {"AB": 2, "BA": 2}
    assert all(j.raw and j.stop_reason for j in stored)  # real replies, with why the model stopped
    invalid = stored.filter(choice="invalid").count()
    assert (job.done, job.failed) == (4 - invalid, invalid)
    assert job.status == Job.status_from_counts(done=job.done, failed=job.failed), job.error


@pytest.mark.timeout(900)  # an answer, the critic's verdict and a summary of long replies: minutes on 2 shared cores
def test_a_bench_run_stores_real_answers(endpoint):
    persona = _people(1)[0]
    _pairs(persona, 1)
    config = bench_config_parse(
        {
            "name": f"local-{uuid.uuid4().hex[:6]}",
            "models": [endpoint.name],
            "methods": ["persona"],
            "critic": endpoint.name,
            "items": 1,
            "samples": 1,
            "k": 1,
        }
    )
    run = bench_run_create(config=config)
    result = bench_run_execute(bench_run=run)
    answers = BenchAnswer.objects.filter(run=run)
    assert answers.count() == 1
    assert result["answers"].stored == 1
    assert all(a.answer or a.answer_error for a in answers)  # each answer is a reply or says why it is not


def test_two_pairs_are_generated_and_verified(endpoint):
    persona = _people(1)[0]
    kept_prompts(train=2, heldout=0)
    verifier = _judge(endpoint)
    dataset = PreferenceDataset.objects.create(
        name=f"local-{uuid.uuid4().hex[:6]}",
        generator=endpoint,
        verifier=verifier,
        train_per_persona=2,
        test_seen_per_persona=0,
        test_unseen_per_persona=0,
        seed=1,
        use_batch=False,
    )
    dataset_plan(dataset=dataset)
    assert dataset.items.filter(persona=persona).count() == 2
    made = PreferencePair.objects.filter(dataset=dataset)
    # A 270M model's critique or revision is sometimes refused (empty, an echo of its instructions, no change); a
    # re-run asks only those items again, as a coordinator's re-run would. Three rounds make a pair all but certain.
    for _ in range(3):
        for stage in (stage_answer_run, stage_critique_run, stage_revise_run):
            result = stage(dataset=dataset)
            assert result.done + result.failed == result.requested  # nothing dropped
        if made.exists():
            break
    for pair in made:
        assert pair.chosen.strip()
        assert pair.rejected.strip()
        assert pair.chosen != pair.rejected
    reasons = list(dataset.items.values_list("failure_stage", "failure_reason"))
    assert made.count() >= 1, f"no pair survived generation: {reasons}"
    dataset_verify(dataset=dataset)
    # The verifier judged each pair (verified or failed; unchecked only when its replies could not be read).
    assert made.exclude(verification=VerificationVerdict.UNCHECKED).exists()


def test_the_consistency_check_gives_each_persona_a_verdict_or_leaves_it_unchecked(endpoint):
    people = _people(3)
    personas_llm_check(personas=people, endpoint=endpoint)
    for persona in Persona.objects.filter(pk__in=[p.pk for p in people]):
        check = persona.checks["llm"]
        assert check["verdict"] in ("plausible", "implausible", "invalid", "failed"), check
        assert check.get("attempts", 1) >= 1


def test_an_outage_mid_run_is_waited_out_and_every_item_is_stored_once(
    celery_worker, server, endpoint, client, coordinator
):
    persona = _people(1)[0]
    pairs = _pairs(persona, 3)
    judge = _judge(endpoint)
    ModelEndpoint.objects.filter(pk=endpoint.pk).update(retry_budget_seconds=120)
    job = judge_run_start(judge=judge, items=[(persona.pk, pair.pk) for pair in pairs])
    deadline = time.monotonic() + 300
    while not Judgment.objects.filter(judge=judge).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    server.stop()
    waiting = f"Waiting for {endpoint.name} ({endpoint.base_url})"
    deadline = time.monotonic() + 60
    while waiting not in Job.objects.get(pk=job.pk).error and time.monotonic() < deadline:
        time.sleep(0.2)
    client.force_login(coordinator)
    assert waiting in client.get(reverse("job-detail", args=[job.pk])).content.decode()
    server.start()
    job = _finished(job)

    keys = Counter(Judgment.objects.filter(judge=judge).values_list("pair_id", "order"))
    assert len(keys) == 6
    assert set(keys.values()) == {1}
    assert job.done + job.failed == 6
    assert job.failed == Judgment.objects.filter(judge=judge, choice="invalid").count()  # no call failed
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert endpoint.name in page
    assert endpoint.base_url in page
