"""LLM enrichment of the open-ended keys, by category: one request per distinct (occupation, industry) writes the
"detailed job description" that every persona of that category shares. All traffic goes through ``core.llm``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from core.jobs import JobRun
from core.llm.service import llm_complete_many
from core.llm.types import Completion, LLMRequest, Message
from personas.models import Persona, PersonaStatus

JOB_KEY = "detailed job description"
SYSTEM = (
    "You write one short line (at most 15 words, no trailing period) describing what a person in a given US census "
    "occupation and industry does day to day. Plain, concrete, no names."
)


def enrichment_category(persona: Persona) -> tuple[str, str] | None:
    """The category an open-ended key is written for; None when the persona has no occupation."""
    occupation = persona.attributes.get("occupation category", "")
    if not occupation:
        return None
    return occupation, persona.attributes.get("industry category", "")


def job_description_request(category: tuple[str, str]) -> LLMRequest:
    occupation, industry = category
    return LLMRequest(
        system=SYSTEM,
        messages=(Message(role="user", content=f"Occupation: {occupation}\nIndustry: {industry or 'unknown'}"),),
        max_tokens=60,
        key=f"job-description:{occupation}:{industry}"[:200],
    )


def job_description_text(completion: Completion) -> str:
    line = completion.text.strip().splitlines()[0] if completion.text.strip() else ""
    return line.strip().strip('"').rstrip(".")[:300]


def personas_llm_enrich(*, personas: Sequence[Persona], endpoint: Any, run: JobRun | None = None) -> int:
    """Fill the detailed job description of consistent personas that lack one; return how many were filled."""

    by_category: dict[tuple[str, str], list[Persona]] = defaultdict(list)
    skipped = 0
    for persona in personas:
        category = enrichment_category(persona)
        if persona.status != PersonaStatus.CONSISTENT or JOB_KEY in persona.attributes or category is None:
            skipped += 1
            continue
        by_category[category].append(persona)
    if run is not None and skipped:
        run.advance(done=skipped)
    categories = sorted(by_category)
    completions = llm_complete_many(
        endpoint=endpoint, requests=[job_description_request(c) for c in categories], run=run
    )
    filled = 0
    for category, completion in zip(categories, completions, strict=True):
        text = job_description_text(completion) if completion.valid else ""
        group = by_category[category]
        for persona in group:
            if text:
                persona.attributes = {**persona.attributes, JOB_KEY: text}
            persona.checks = {**persona.checks, "llm_enrichment": {"model": completion.model, "ok": bool(text)}}
        with transaction.atomic():
            Persona.objects.bulk_update(group, ["attributes", "checks"])
        filled += len(group) if text else 0
        if run is not None:
            run.advance(done=len(group))
    return filled
