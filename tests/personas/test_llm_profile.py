"""The LLM persona profile stage: offline baseline end to end, the rules gate, field sources, caching at Claude's
minimum through the real Anthropic SDK against the mock server, and the measured report."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint
from core.llm.types import Completion
from personas.enrichment import items_for_age
from personas.formats import personas_write_jsonl
from personas.llm_profile import (
    CATEGORIES,
    CATEGORIES_PER_PERSONA,
    PROFILE_KEYS,
    PROFILE_RUBRIC,
    REJECTED,
    WRITTEN,
    persona_categories,
    persona_profile_apply,
    personas_llm_profile,
    profile_report,
    profile_request,
)
from personas.models import CensusDataset, Persona, PersonaStatus
from personas.services import personas_generate
from tests.llm_mock import MockLLMServer


def offline_writer() -> ModelEndpoint:
    endpoint, _created = endpoint_upsert(name="profile-writer", provider="offline", model="text")
    return endpoint


def test_the_shared_rubric_reaches_claudes_cache_minimum() -> None:
    # The mock (and this estimate) counts 4 characters a token; Claude's minimum for most models is 1,024.
    assert len(PROFILE_RUBRIC) // 4 >= 1024


def test_offline_profiles_fit_the_age_pass_the_rules_and_keep_the_curated_draw(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=30, seed=3)
    before = {p.pk: dict(p.attributes) for p in Persona.objects.filter(dataset=dataset)}
    counts = personas_llm_profile(personas=list(Persona.objects.filter(dataset=dataset)), endpoint=offline_writer())
    consistent = list(Persona.objects.filter(dataset=dataset, status=PersonaStatus.CONSISTENT))
    assert counts == {WRITTEN: len(consistent)}
    for persona in consistent:
        record = persona.checks["llm_profile"]
        age = float(persona.attributes["age"])
        for key in PROFILE_KEYS:
            fitting = {item.text for item in items_for_age(key, age)}
            assert persona.attributes[key] == record["values"][key] in fitting
            assert persona.attribute_sources[key] == "llm"
        assert record["curated"] == {k: before[persona.pk][k] for k in PROFILE_KEYS if k in before[persona.pk]}
        assert persona.attribute_sources["age"] == "census"
        assert persona.attribute_sources["big five scores"] == "procedural"
        assert record["categories"] == list(persona_categories(persona))
    # Pruned personas are not written for; a re-run sends nothing.
    assert all("llm_profile" not in p.checks for p in Persona.objects.filter(dataset=dataset, status="pruned"))
    assert personas_llm_profile(personas=consistent, endpoint=offline_writer()) == {}


def test_categories_are_seeded_and_the_report_counts_their_coverage(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=40, seed=5)
    personas = list(Persona.objects.filter(dataset=dataset))
    first = [persona_categories(p) for p in personas]
    assert first == [persona_categories(p) for p in personas]
    assert first != [persona_categories(p, seed=1) for p in personas]
    assert all(len(set(c)) == CATEGORIES_PER_PERSONA and set(c) <= set(CATEGORIES) for c in first)
    personas_llm_profile(personas=personas, endpoint=offline_writer())
    stored = list(Persona.objects.filter(dataset=dataset))
    report = profile_report(stored)
    written = [p for p in stored if p.checks.get("llm_profile", {}).get("outcome") == WRITTEN]
    assert report.asked == report.written == len(written) > 0
    assert report.pass_share == 1.0
    assert sum(report.category_counts.values()) == CATEGORIES_PER_PERSONA * len(written)
    by_key = {f.key: f for f in report.fields}
    for key in PROFILE_KEYS:
        assert by_key[key].llm_distinct == len({p.attributes[key] for p in written})
        assert by_key[key].curated_count == sum(key in p.checks["llm_profile"]["curated"] for p in written) + sum(
            key in p.attributes for p in stored if p not in written
        )
    assert any("passing the consistency check" in line for line in report.lines())


def test_a_profile_the_rules_object_to_is_not_written(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=40, seed=2)
    child = next(
        p for p in Persona.objects.filter(dataset=dataset, status="consistent") if float(p.attributes["age"]) < 10
    )
    before = dict(child.attributes)
    adult_only = next(item.text for item in items_for_age("lifestyle", 40) if item.min_age >= 18)
    reply = {
        "defining quirks": "Hums while drawing pictures",
        "mannerisms": "Giggles at silly jokes",
        "personal time": "Building Lego castles",
        "lifestyle": adult_only,
    }
    outcome = persona_profile_apply(
        child, Completion(text=json.dumps(reply), fields=reply, model="m"), categories=("Lifestyle",)
    )
    assert outcome == REJECTED
    assert child.attributes == before
    assert "lifestyle" in child.checks["llm_profile"]["reasons"][0]
    assert all(source != "llm" for source in child.attribute_sources.values())
    report = profile_report([child])
    assert (report.asked, report.written) == (1, 0)


@pytest.mark.parametrize(
    "values",
    [
        ("d", "t", "30", "personality"),  # what Gemma 3 270M wrote into the schema
        ("social life and relationships: food and cooking", "Hums quietly while working", "Hiking", "Quiet"),
    ],
)
def test_a_reply_that_describes_nothing_is_not_written(dataset: CensusDataset, values: tuple[str, ...]) -> None:
    personas_generate(dataset=dataset, n=5, seed=2)
    persona = Persona.objects.filter(dataset=dataset, status="consistent").first()
    before = dict(persona.attributes)
    reply = dict(zip(("defining quirks", "mannerisms", "personal time", "lifestyle"), values, strict=True))
    outcome = persona_profile_apply(persona, Completion(text="", fields=reply, model="m"), categories=())
    assert outcome == "invalid"
    assert persona.attributes == before
    assert "describes nothing" in persona.checks["llm_profile"]["error"]


def test_an_unreadable_reply_is_asked_again(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=5, seed=2)
    persona = Persona.objects.filter(dataset=dataset, status="consistent").first()
    reply = {"defining quirks": "x", "mannerisms": "", "personal time": "y", "lifestyle": "z"}
    outcome = persona_profile_apply(persona, Completion(text="", fields=reply, model="m"), categories=())
    assert outcome == "invalid"
    persona.save()
    counts = personas_llm_profile(personas=[Persona.objects.get(pk=persona.pk)], endpoint=offline_writer())
    assert counts == {WRITTEN: 1}
    assert Persona.objects.get(pk=persona.pk).checks["llm_profile"]["attempts"] == 2


def test_profiles_through_the_anthropic_sdk_cache_the_rubric_at_claudes_minimum(
    dataset: CensusDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    personas_generate(dataset=dataset, n=10, seed=2)
    personas = list(Persona.objects.filter(dataset=dataset, status="consistent"))
    monkeypatch.setenv("PERSONA_LAB_TEST_PROFILE_KEY", "sk-test-not-a-real-key")
    with MockLLMServer() as mock:  # Claude's minimum: 1,024 tokens (2,048 for Haiku)
        endpoint, _created = endpoint_upsert(
            name="profile-mock",
            provider="anthropic",
            model="mock-sonnet",
            base_url=mock.url,
            api_key_env="PERSONA_LAB_TEST_PROFILE_KEY",
            concurrency=1,
            timeout_seconds=5.0,
        )
        personas_llm_profile(personas=personas[:1], endpoint=endpoint)
        personas_llm_profile(personas=personas[1:], endpoint=endpoint)
    calls = list(endpoint.calls.order_by("id"))
    assert len(calls) == len(personas)
    assert calls[0].cache_write_tokens >= 1024
    assert all(c.cache_read_tokens >= 1024 for c in calls[1:])
    stored = Persona.objects.filter(pk__in=[p.pk for p in personas])
    assert all(p.checks["llm_profile"]["outcome"] in (WRITTEN, REJECTED) for p in stored)


def test_sources_show_on_the_persona_page_and_in_the_export(dataset: CensusDataset, admin_client: Client) -> None:
    personas_generate(dataset=dataset, n=5, seed=2)
    personas_llm_profile(personas=list(Persona.objects.filter(dataset=dataset)), endpoint=offline_writer())
    persona = Persona.objects.filter(dataset=dataset, status="consistent").first()
    page = admin_client.get(f"/personas/{persona.public_id}/").content.decode()
    assert "Where the values come from" in page
    assert "written by <strong>offline:text</strong>" in page
    assert page.count('class="source source-llm"') == len(PROFILE_KEYS)
    record = json.loads(next(personas_write_jsonl([persona.export_row()])))
    assert {k for k, v in record["sources"].items() if v == "llm"} == set(PROFILE_KEYS)
    assert record["sources"]["sex"] == "census"


def test_request_puts_the_persona_after_the_shared_rubric(dataset: CensusDataset) -> None:
    personas_generate(dataset=dataset, n=3, seed=2)
    persona = Persona.objects.filter(dataset=dataset).first()
    request = profile_request(persona)
    assert request.cache_prefix == PROFILE_RUBRIC
    content = request.messages[0].content
    assert all(f"{key}:" not in content for key in PROFILE_KEYS)  # the curated draw is not shown to the writer
    assert ", ".join(persona_categories(persona)) in content
    assert [f.name for f in request.output.fields] == list(PROFILE_KEYS)
