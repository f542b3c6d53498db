from __future__ import annotations

from typing import Any

from core.jobs import JobRun, register_job_kind
from core.llm.models import ModelEndpoint
from personas.llm_check import personas_llm_check
from personas.llm_enrichment import personas_llm_enrich
from personas.models import CensusDataset, Persona
from personas.services import ENRICH_JOB, GENERATE_JOB, generation_keys, personas_generate


def _endpoint(pk: int | None) -> Any:
    if not pk:
        return None

    return ModelEndpoint.objects.get(pk=pk)


@register_job_kind(GENERATE_JOB, label="Generate personas")
def generate_personas(run: JobRun) -> None:
    """Sample + enrich + rules (stage 1, resumable), then the optional LLM check and LLM enrichment stages.

    Each stage counts every persona once; a re-run skips the personas (and checks) that are already stored.
    """
    params = run.params
    dataset = CensusDataset.objects.get(pk=params["dataset_id"])
    n, seed = int(params["n"]), int(params["seed"])
    check_endpoint = _endpoint(params.get("llm_check_endpoint_id"))
    enrich_endpoint = _endpoint(params.get("enrichment_endpoint_id"))
    stages = 1 + (check_endpoint is not None) + (enrich_endpoint is not None)
    keys = generation_keys(dataset=dataset, seed=seed, n=n)
    generated = Persona.objects.filter(generation_key__in=keys)
    run.set_total(n * stages, already_done=generated.count())
    personas_generate(dataset=dataset, n=n, seed=seed, run=run)
    if check_endpoint is not None:
        personas_llm_check(personas=list(generated.order_by("id")), endpoint=check_endpoint, run=run)
    if enrich_endpoint is not None:
        personas_llm_enrich(personas=list(generated.order_by("id")), endpoint=enrich_endpoint, run=run)


@register_job_kind(ENRICH_JOB, label="Enrich personas with an LLM")
def enrich_personas(run: JobRun) -> None:
    """LLM enrichment of existing consistent personas (one dataset, or all); already enriched ones are skipped."""

    params = run.params
    personas = Persona.objects.order_by("id")
    if params.get("dataset_id"):
        personas = personas.filter(dataset_id=params["dataset_id"])
    items = list(personas)
    run.set_total(len(items), already_done=0)
    personas_llm_enrich(personas=items, endpoint=_endpoint(params["endpoint_id"]), run=run)
