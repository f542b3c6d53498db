from __future__ import annotations

from core.jobs import job_rerun
from core.models import Job, JobStatus
from personas.models import CensusDataset, Persona, PersonaSource
from personas.services import persona_generation_start
from tests.factories import wait_for


def test_generation_job_runs_on_a_real_worker_and_reruns_without_duplicates(
    celery_worker: object, dataset: CensusDataset
) -> None:
    job = persona_generation_start(dataset=dataset, n=12, seed=5)
    job = wait_for(job, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.total, job.done) == (12, 12)
    personas = list(Persona.objects.filter(dataset=dataset).order_by("generation_key"))
    assert len(personas) == 12
    assert {p.source for p in personas} == {PersonaSource.PUMS}
    assert all(p.generation_seed == 5 and p.census_record_id for p in personas)
    first = {p.generation_key: p.attributes for p in personas}

    # Simulate an interrupted run: drop some personas, mark the job failed, re-run: only the missing are made.
    Persona.objects.filter(generation_key__in=sorted(first)[:4]).delete()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    job.refresh_from_db()
    job = wait_for(job_rerun(job=job), {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.total, job.done) == (12, 12)
    again = {p.generation_key: p.attributes for p in Persona.objects.filter(dataset=dataset)}
    assert again == first  # same seed, same data: the same people
