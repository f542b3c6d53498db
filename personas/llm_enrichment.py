"""LLM enrichment of the open-ended keys, by category: one request per distinct (occupation, industry) writes the
"detailed job description" that every persona of that category shares. All traffic goes through ``core.llm``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from core.llm.runner import Reply, work_run
from core.llm.types import Completion, JobProgress, LLMRequest, Message
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


class _EnrichHandler:
    """Enrichment as runner work: a category in, its line written on every persona of that category."""

    def __init__(self, by_category: dict[tuple[str, str], list[Persona]]) -> None:
        self.by_category = by_category

    def requests(self, items: list[tuple[str, str]], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [job_description_request(category) for category in items]

    def reply(self, item: tuple[str, str], completion: Completion, *, last: bool) -> Reply:
        text = job_description_text(completion) if completion.valid else ""
        group = self.by_category[item]
        for persona in group:
            if text:
                persona.attributes = {**persona.attributes, JOB_KEY: text}
            persona.checks = {**persona.checks, "llm_enrichment": {"model": completion.model, "ok": bool(text)}}
        return Reply(group, valid=bool(text), done=len(group), failed=0)

    def write(self, rows: list[list[Persona]]) -> None:
        Persona.objects.bulk_update([persona for group in rows for persona in group], ["attributes", "checks"])


def personas_llm_enrich(*, personas: Sequence[Persona], endpoint: Any, job: JobProgress | None = None) -> int:
    """Fill the detailed job description of consistent personas that lack one; return how many were filled."""

    by_category: dict[tuple[str, str], list[Persona]] = defaultdict(list)
    skipped = 0
    for persona in personas:
        category = enrichment_category(persona)
        if persona.status != PersonaStatus.CONSISTENT or JOB_KEY in persona.attributes or category is None:
            skipped += 1
            continue
        by_category[category].append(persona)
    if job is not None and skipped:
        job.advance(done=skipped)
    handler = _EnrichHandler(by_category)
    units = {category: len(group) for category, group in by_category.items()}
    work_run(endpoint=endpoint, items=sorted(by_category), handler=handler, job=job, units=units.__getitem__)
    return sum(JOB_KEY in persona.attributes for group in by_category.values() for persona in group)
