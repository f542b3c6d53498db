"""The LLM consistency check and LLM enrichment, through core.llm's offline provider (no network, no key)."""

from __future__ import annotations

import pytest

from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint
from core.models import JobStatus
from personas.llm_check import (
    IMPLAUSIBLE,
    INVALID,
    persona_llm_check_exhausted,
    persona_llm_checked,
    personas_llm_check,
)
from personas.llm_enrichment import JOB_KEY, personas_llm_enrich
from personas.models import CensusDataset, Persona, PersonaStatus
from personas.services import persona_enrichment_start, persona_generation_start, personas_generate, prune_rate
from tests.factories import wait_for
from tests.llm_mock import MockLLMServer


def offline(name: str, model: str) -> ModelEndpoint:
    endpoint, _created = endpoint_upsert(name=name, provider="offline", model=model)
    return endpoint


def test_llm_check_prunes_and_records_why(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=30, seed=2)
    personas = list(Persona.objects.filter(dataset=dataset))
    before = sum(p.status == PersonaStatus.PRUNED for p in personas)
    pruned = personas_llm_check(personas=personas, endpoint=offline("check-random", "random"))
    stored = list(Persona.objects.filter(dataset=dataset))
    llm_pruned = [p for p in stored if p.checks.get("llm", {}).get("verdict") == IMPLAUSIBLE]
    assert pruned == len(llm_pruned) > 0  # the seeded random baseline calls some implausible
    assert all(p.status == PersonaStatus.PRUNED and p.prune_reason.startswith("LLM check:") for p in llm_pruned)
    assert prune_rate(personas=stored) == pytest.approx((before + pruned) / 30)
    # Checked personas are not sent again.
    assert personas_llm_check(personas=stored, endpoint=offline("check-random", "random")) == 0


def test_llm_check_with_a_lenient_judge_prunes_nothing(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=10, seed=2)
    personas = list(Persona.objects.filter(dataset=dataset))
    assert personas_llm_check(personas=personas, endpoint=offline("check-first", "always_a")) == 0
    assert all(p.checks["llm"]["verdict"] == "plausible" for p in personas if p.status == PersonaStatus.CONSISTENT)


def test_llm_enrichment_writes_one_job_description_per_category(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=25, seed=4)
    personas = list(Persona.objects.filter(dataset=dataset))
    filled = personas_llm_enrich(personas=personas, endpoint=offline("writer", "text"))
    stored = list(Persona.objects.filter(dataset=dataset))
    workers = [p for p in stored if p.occupation and p.status == PersonaStatus.CONSISTENT]
    assert filled == len(workers) > 0
    assert all("[offline text]" in p.attributes[JOB_KEY] for p in workers)
    same_job = {}
    for p in workers:
        same_job.setdefault((p.occupation, p.attributes.get("industry category", "")), set()).add(p.attributes[JOB_KEY])
    assert all(len(texts) == 1 for texts in same_job.values())  # written by category
    assert all(JOB_KEY not in p.attributes for p in stored if not p.occupation)


def test_generation_job_with_both_llm_stages(celery_worker: object, dataset: CensusDataset) -> None:
    job = persona_generation_start(
        dataset=dataset,
        n=8,
        seed=9,
        llm_check_endpoint_id=offline("check-job", "random").pk,
        enrichment_endpoint_id=offline("writer-job", "text").pk,
    )
    job = wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.total, job.done) == (32, 32)  # rules, check, job descriptions, profiles: 8 each
    personas = list(Persona.objects.filter(dataset=dataset))
    assert len(personas) == 8
    assert all("llm" in p.checks or p.prune_reason.startswith("Rules") for p in personas)
    # The enrichment endpoint also wrote each still-consistent persona's open-ended profile.
    consistent = [p for p in personas if p.status == PersonaStatus.CONSISTENT]
    assert consistent
    assert all(p.profile_check["outcome"] == "written" for p in consistent)
    assert all(p.attribute_sources["lifestyle"] == "llm" for p in consistent)


def test_enrichment_job_for_existing_personas(celery_worker: object, dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=10, seed=6)
    job = persona_enrichment_start(endpoint_id=offline("writer-enrich", "text").pk, dataset=dataset)
    job = wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.total, job.done) == (20, 20)  # job descriptions, then profiles
    workers = [p for p in Persona.objects.filter(dataset=dataset) if p.occupation and p.status == "consistent"]
    assert all(JOB_KEY in p.attributes for p in workers)
    consistent = Persona.objects.filter(dataset=dataset, status="consistent")
    assert all(p.profile_check["outcome"] == "written" for p in consistent)


def _mock_checker(url: str, monkeypatch: pytest.MonkeyPatch) -> ModelEndpoint:
    monkeypatch.setenv("PERSONA_LAB_TEST_CHECK_KEY", "sk-test-not-a-real-key")
    endpoint, _created = endpoint_upsert(
        name="check-mock",
        provider="anthropic",
        model="mock-model",
        base_url=url,
        api_key_env="PERSONA_LAB_TEST_CHECK_KEY",
        concurrency=1,  # the queued faults meet the first requests, in order
        max_attempts=1,
        timeout_seconds=5.0,
    )
    return endpoint


def test_an_invalid_check_is_no_verdict_and_a_rerun_asks_only_those_again(
    dataset: CensusDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    personas_generate(dataset=dataset, n=8, seed=2)
    with MockLLMServer() as mock:
        endpoint = _mock_checker(mock.url, monkeypatch)
        consistent = list(Persona.objects.filter(dataset=dataset, status=PersonaStatus.CONSISTENT).order_by("id"))
        mock.enqueue("offformat", "offformat")
        personas_llm_check(personas=consistent, endpoint=endpoint)
        stored = list(Persona.objects.filter(pk__in=[p.pk for p in consistent]).order_by("id"))
        invalid = [p for p in stored if p.checks["llm"]["verdict"] == INVALID]
        assert len(invalid) == 2
        assert not any(persona_llm_checked(p) for p in invalid)
        assert all(p.status == PersonaStatus.CONSISTENT and p.checks["llm"]["attempts"] == 1 for p in invalid)
        asked = len(mock.state.requests)
        personas_llm_check(personas=stored, endpoint=endpoint)
        assert len(mock.state.requests) == asked + 2  # only the two without a verdict
        assert all(persona_llm_checked(p) for p in Persona.objects.filter(pk__in=[p.pk for p in consistent]))


def test_an_invalid_check_is_asked_again_at_most_llm_invalid_retries_times(
    dataset: CensusDataset, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    settings.LLM_INVALID_RETRIES = 1  # type: ignore[attr-defined]
    personas_generate(dataset=dataset, n=8, seed=2)
    persona = Persona.objects.filter(dataset=dataset, status=PersonaStatus.CONSISTENT).first()
    with MockLLMServer() as mock:
        endpoint = _mock_checker(mock.url, monkeypatch)
        mock.enqueue(*["offformat"] * 5)
        for _ in range(3):
            personas_llm_check(personas=[Persona.objects.get(pk=persona.pk)], endpoint=endpoint)
        assert len(mock.state.requests) == 2  # the first ask and one retry; then it stays invalid
    persona.refresh_from_db()
    assert persona.checks["llm"]["verdict"] == INVALID
    assert persona.checks["llm"]["attempts"] == 2
    assert persona_llm_check_exhausted(persona)
