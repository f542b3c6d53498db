from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.jobs import JobFact, JobRun, register_job_kind
from core.llm.models import ModelEndpoint
from core.models import Job
from personas.llm_check import personas_llm_check
from personas.llm_enrichment import personas_llm_enrich
from personas.llm_profile import personas_llm_profile
from personas.models import CensusDataset, Persona, PersonaSource
from personas.services import (
    ENRICH_JOB,
    GENERATE_JOB,
    IMPORT_JOB,
    generation_keys,
    persona_import_run,
    personas_generate,
)
from personas.uploads import PUMS_IMPORT_JOB, census_dataset_import_run


def _endpoint(pk: int | None) -> Any:
    if not pk:
        return None
    return ModelEndpoint.objects.get(pk=pk)


def _endpoint_name(pk: int | None) -> str:
    endpoint = ModelEndpoint.objects.filter(pk=pk).first() if pk else None
    return f"{endpoint.name} ({endpoint.model})" if endpoint else "off"


def _dataset_facts(dataset_id: int | None) -> list[JobFact]:
    dataset = CensusDataset.objects.filter(pk=dataset_id).first() if dataset_id else None
    if dataset is None:
        return [JobFact(label="Personas", value="all datasets and imported personas", url=reverse("persona-list"))]
    personas = f"{reverse('persona-list')}?dataset={dataset.pk}"
    return [
        JobFact(label="Census dataset", value=str(dataset)),
        JobFact(label="Personas", value=f"{dataset.personas.count()} so far — see them", url=personas),
    ]


def generation_describe(job: Job) -> list[JobFact]:
    params = job.params
    return [
        *_dataset_facts(params.get("dataset_id")),
        JobFact(label="Personas asked for", value=str(params.get("n"))),
        JobFact(label="Seed", value=str(params.get("seed"))),
        JobFact(label="LLM consistency check", value=_endpoint_name(params.get("llm_check_endpoint_id"))),
        JobFact(label="LLM enrichment", value=_endpoint_name(params.get("enrichment_endpoint_id"))),
    ]


def enrichment_describe(job: Job) -> list[JobFact]:
    return [
        *_dataset_facts(job.params.get("dataset_id")),
        JobFact(label="LLM endpoint", value=_endpoint_name(job.params.get("endpoint_id"))),
    ]


@register_job_kind(GENERATE_JOB, label="Generate personas", describe=generation_describe)
def generate_personas(job: JobRun) -> None:
    """Sample + enrich + rules (stage 1, resumable), then the optional LLM check and LLM enrichment stages.

    Each stage counts every persona once; a re-run skips the personas (and checks) that are already stored.
    """
    params = job.params
    dataset = CensusDataset.objects.get(pk=params["dataset_id"])
    n, seed = int(params["n"]), int(params["seed"])
    check_endpoint = _endpoint(params.get("llm_check_endpoint_id"))
    enrich_endpoint = _endpoint(params.get("enrichment_endpoint_id"))
    # LLM enrichment is two stages: the job descriptions (by category), then each persona's open-ended profile.
    stages = 1 + (check_endpoint is not None) + 2 * (enrich_endpoint is not None)
    keys = generation_keys(dataset=dataset, seed=seed, n=n)
    generated = Persona.objects.filter(generation_key__in=keys)
    job.set_total(n * stages, already_done=generated.count())
    personas_generate(dataset=dataset, n=n, seed=seed, job=job)
    if check_endpoint is not None:
        personas_llm_check(personas=list(generated.order_by("id")), endpoint=check_endpoint, job=job)
    if enrich_endpoint is not None:
        personas_llm_enrich(personas=list(generated.order_by("id")), endpoint=enrich_endpoint, job=job)
        personas_llm_profile(personas=list(generated.order_by("id")), endpoint=enrich_endpoint, job=job)


@register_job_kind(ENRICH_JOB, label="Enrich personas with an LLM", describe=enrichment_describe)
def enrich_personas(job: JobRun) -> None:
    """LLM enrichment of existing consistent personas (one dataset, or all): job descriptions, then open-ended
    profiles; already enriched ones are skipped."""

    params = job.params
    personas = Persona.objects.order_by("id")
    if params.get("dataset_id"):
        personas = personas.filter(dataset_id=params["dataset_id"])
    items = list(personas)
    job.set_total(2 * len(items), already_done=0)
    endpoint = _endpoint(params["endpoint_id"])
    personas_llm_enrich(personas=items, endpoint=endpoint, job=job)
    personas_llm_profile(
        personas=list(Persona.objects.filter(pk__in=[p.pk for p in items]).order_by("id")), endpoint=endpoint, job=job
    )


def import_outcome(job: Job) -> JobFact:
    url = f"{reverse('persona-list')}?source={PersonaSource.IMPORTED}"
    return JobFact(label="Personas", value=f"See the imported personas ({job.done} in this file)", url=url)


@register_job_kind(IMPORT_JOB, label="Import personas", outcome=import_outcome)
def import_personas(job: JobRun) -> None:
    persona_import_run(job)


@register_job_kind(PUMS_IMPORT_JOB, label="Import a PUMS extract")
def import_pums(job: JobRun) -> None:
    census_dataset_import_run(job)
