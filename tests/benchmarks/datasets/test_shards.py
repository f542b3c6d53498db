"""A dataset stage spread over shard jobs: disjoint spans that cover the work, the same pairs as one job, one
progress for the stage, a killed shard resumed without asking twice, failures and cancels reaching the stage."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.datasets.models import ItemStatus, PreferenceDataset
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.progress import dataset_jobs
from benchmarks.datasets.shards import SHARD_JOB, spans_cut, stage_spans
from benchmarks.datasets.stages import STAGE_JOBS, Stage, stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.pairs.models import PreferencePair
from core.jobs import JobRun, job_cancel, job_execute, job_rerun, job_start, jobs_sweep_stalled
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.benchmarks.datasets.conftest import dataset_make, verifier_judge
from tests.llm_mock import MockLLMServer
from tests.llm_retries import llm_fast_retries

KEY_ENV = "PERSONA_LAB_TEST_DATASET_KEY"


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=300), st.integers(min_value=1, max_value=50))
def test_spans_are_disjoint_cover_every_key_and_never_split_a_persona(keys, size):
    keys = sorted(keys)
    spans = spans_cut(keys, size=size)
    assert [lo for lo, _ in spans] == sorted(lo for lo, _ in spans)
    assert all(lo <= hi < next_lo for (lo, hi), (next_lo, _) in itertools.pairwise(spans))
    inside = [[key for key in keys if lo <= key <= hi] for lo, hi in spans]
    assert sum(len(part) for part in inside) == len(keys)  # each key in exactly one span
    # A span closes only once it holds ``size`` keys (the last may be shorter); one key's items stay together.
    assert all(len(part) >= size for part in inside[:-1])
    assert all(len(part) - part.count(part[-1]) < size for part in inside)


def _planned(**fields: object) -> PreferenceDataset:
    dataset = dataset_make(**fields)
    dataset_plan(dataset=dataset)
    return dataset


def _pairs(dataset: PreferenceDataset) -> set[tuple[object, ...]]:
    rows = PreferencePair.objects.filter(dataset=dataset)
    return set(rows.values_list("persona_id", "prompt_id", "split", "rejected", "critique", "chosen"))


def _run_stage_as_jobs(dataset: PreferenceDataset, stage: str) -> Job:
    """The stage's job and its shards, each run the way a worker runs it (claim, handler, end)."""
    parent = job_start(kind=STAGE_JOBS[stage], params={"dataset_id": dataset.pk, "stage": stage})
    job_execute(job_id=parent.pk)
    for shard in Job.objects.filter(parent=parent, status=JobStatus.QUEUED).order_by("pk"):
        job_execute(job_id=shard.pk)
    parent.refresh_from_db()
    return parent


@pytest.mark.django_db
def test_spans_of_a_planned_stage_cover_its_items_once(small_world, settings):
    settings.DATASET_SHARD_ITEMS = 5
    dataset = _planned()
    spans = stage_spans(dataset=dataset, stage=Stage.CRITIQUE)
    assert len(spans) == 3  # three personas of eight items: a span closes at the first persona past five
    covered = [dataset.items.filter(persona_id__gte=span[0], persona_id__lte=span[1]).count() for span in spans]
    assert sum(covered) == dataset.items.count() == 24


@pytest.mark.django_db
def test_a_stage_run_as_shards_yields_the_pairs_one_job_yields(small_world, settings):
    sharded = _planned(verifier=verifier_judge())
    for run in (stage_answer_run, stage_critique_run, stage_revise_run):
        run(dataset=sharded)
    single = _pairs(sharded)
    # Back to planned: the offline model's texts follow the request keys, which name the dataset, so the same
    # dataset generated again as shards must write the very same rows.
    PreferencePair.objects.filter(dataset=sharded).delete()
    sharded.answers.all().delete()
    sharded.items.update(status=ItemStatus.PLANNED, critique="")
    settings.DATASET_SHARD_ITEMS = 5
    parents = [_run_stage_as_jobs(sharded, stage) for stage in (Stage.ANSWER, Stage.CRITIQUE, Stage.REVISE)]
    shards = Job.objects.filter(kind=SHARD_JOB, parent__in=parents)
    assert shards.count() >= 3 + 3 + 3 - 1  # the shared y_l split by prompt, the others by persona
    assert set(shards.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert [parent.status for parent in parents] == [JobStatus.SUCCEEDED] * 3
    assert _pairs(sharded) == single
    assert len(single) == 24
    verify = _run_stage_as_jobs(sharded, Stage.VERIFY)
    assert verify.status == JobStatus.SUCCEEDED, verify.error
    assert (verify.total, verify.done) == (48, 48)  # both orders of every pair, summed over the shards
    assert Job.objects.filter(parent=verify).count() == 3
    assert not PreferencePair.objects.filter(dataset=sharded, verification="unchecked").exists()


@pytest.mark.django_db
def test_the_stage_job_shows_the_sum_of_its_shards_and_the_page_lists_it_once(small_world, settings, client):
    settings.DATASET_SHARD_ITEMS = 8
    dataset = _planned()
    stage_answer_run(dataset=dataset)
    dataset.items.filter(persona_id=dataset.items.order_by("persona_id").first().persona_id).update(
        status=ItemStatus.FAILED, failure_stage=Stage.ANSWER
    )
    parent = job_start(kind=STAGE_JOBS[Stage.CRITIQUE], params={"dataset_id": dataset.pk, "stage": Stage.CRITIQUE})
    job_execute(job_id=parent.pk)
    parent.refresh_from_db()
    # Before the shards run, the stage counts the whole: 24 items, of which the 8 whose y_l failed fail it too.
    assert (parent.status, parent.total, parent.done, parent.failed) == (JobStatus.RUNNING, 24, 0, 8)
    shards = list(Job.objects.filter(parent=parent).order_by("pk"))
    assert len(shards) == 2  # the two other personas
    job_execute(job_id=shards[0].pk)
    parent.refresh_from_db()
    assert (parent.status, parent.done) == (JobStatus.RUNNING, 8)  # one shard in
    job_execute(job_id=shards[1].pk)
    parent.refresh_from_db()
    assert (parent.status, parent.total, parent.done, parent.failed) == (JobStatus.PARTIAL, 24, 16, 8)
    assert (shards[0].total, Job.objects.get(pk=shards[0].pk).done) == (0, 8)
    assert list(dataset_jobs(dataset)) == [parent]  # the dataset's page: one job for the stage


def _critique_split(settings) -> tuple[PreferenceDataset, Job]:
    """A planned dataset with its y_l written, whose critique stage job has run: split into shards of 8 items."""
    settings.DATASET_SHARD_ITEMS = 8
    dataset = _planned()
    stage_answer_run(dataset=dataset)
    parent = job_start(kind=STAGE_JOBS[Stage.CRITIQUE], params={"dataset_id": dataset.pk, "stage": Stage.CRITIQUE})
    job_execute(job_id=parent.pk)
    return dataset, parent


@pytest.mark.django_db
def test_job_pages_list_the_stage_not_its_shards(small_world, settings, admin_client):
    _dataset, parent = _critique_split(settings)
    shard = Job.objects.filter(parent=parent).first()
    listing = admin_client.get("/jobs/").content.decode()
    assert f"/jobs/{parent.pk}/" in listing
    assert f"/jobs/{shard.pk}/" not in listing
    page = admin_client.get(f"/jobs/{parent.pk}/").content.decode()
    assert "Spread over shards that any free worker takes: 3 queued." in page


@pytest.mark.django_db
def test_a_failed_shard_fails_the_stage_and_a_rerun_does_what_is_left(small_world, settings, monkeypatch):
    dataset, parent = _critique_split(settings)
    shards = list(Job.objects.filter(parent=parent).order_by("pk"))
    job_execute(job_id=shards[0].pk)
    with monkeypatch.context() as patch:
        patch.setattr("benchmarks.datasets.stages.CritiqueHandler.write", _broken_write)
        job_execute(job_id=shards[1].pk)
    job_execute(job_id=shards[2].pk)
    parent.refresh_from_db()
    assert parent.status == JobStatus.FAILED  # never "succeeded" with a shard that did not finish
    assert f"Shard #{shards[1].pk} failed: RuntimeError: disk full" in parent.error
    assert parent.done == 16
    job_rerun(job=parent)
    job_execute(job_id=parent.pk)
    # Only the failed shard's persona is left: one shard of work, run inline by the stage's job.
    assert not Job.objects.filter(parent=parent, status=JobStatus.QUEUED).exists()
    parent.refresh_from_db()
    assert (parent.status, parent.done, parent.failed) == (JobStatus.SUCCEEDED, 24, 0)
    assert dataset.items.filter(status=ItemStatus.CRITIQUED).count() == 24


def _broken_write(self, rows):
    raise RuntimeError("disk full")


@pytest.mark.django_db
def test_cancelling_the_stage_cancels_its_shards(small_world, settings):
    dataset, parent = _critique_split(settings)
    assert job_cancel(job=parent)
    statuses = set(Job.objects.filter(parent=parent).values_list("status", flat=True))
    assert statuses == {JobStatus.CANCELLED}
    for shard in Job.objects.filter(parent=parent):
        job_execute(job_id=shard.pk)  # a message still on its way: not claimed, nothing asked
    assert not dataset.items.filter(status=ItemStatus.CRITIQUED).exists()


def _critique_calls(mock: MockLLMServer) -> int:
    return sum("Critique this answer" in str(r["body"]) for r in mock.state.requests)


class _Killed(BaseException):
    """A worker dying mid-shard: nothing in the job machinery catches it, the shard stays running."""


@pytest.mark.django_db
def test_a_shard_killed_mid_way_is_resumed_by_the_sweep_asking_nothing_twice(small_world, settings, monkeypatch):
    llm_fast_retries(monkeypatch, key_env=KEY_ENV)
    monkeypatch.setattr("core.llm.runner.FLUSH_EVERY", 2)
    settings.DATASET_SHARD_ITEMS = 8
    with MockLLMServer(varied_text=True) as mock:
        endpoint, _ = endpoint_upsert(
            name=f"gen-{uuid.uuid4().hex[:8]}",
            provider=Provider.OPENAI_COMPATIBLE,
            model="mock-model",
            base_url=mock.openai_url,
            api_key_env=KEY_ENV,
            concurrency=1,
            price_input_per_mtok=Decimal(3),
            price_output_per_mtok=Decimal(15),
        )
        dataset = _planned(generator=endpoint)
        stage_answer_run(dataset=dataset)
        parent = job_start(kind=STAGE_JOBS[Stage.CRITIQUE], params={"dataset_id": dataset.pk, "stage": Stage.CRITIQUE})
        job_execute(job_id=parent.pk)
        shards = list(Job.objects.filter(parent=parent).order_by("pk"))
        advance = JobRun.advance

        def dies_after_first_flush(run: JobRun, *, done: int = 1, failed: int = 0) -> None:
            advance(run, done=done, failed=failed)
            if run.job.pk == shards[1].pk:
                raise _Killed

        with monkeypatch.context() as patch:
            patch.setattr(JobRun, "advance", dies_after_first_flush)
            job_execute(job_id=shards[0].pk)
            with pytest.raises(_Killed):
                job_execute(job_id=shards[1].pk)
        job_execute(job_id=shards[2].pk)
        killed = Job.objects.get(pk=shards[1].pk)
        assert killed.status == JobStatus.RUNNING
        assert 0 < killed.done < 8
        stored_at_kill = dataset.items.filter(status=ItemStatus.CRITIQUED).count()
        asked_at_kill = _critique_calls(mock)
        parent.refresh_from_db()
        assert parent.status == JobStatus.RUNNING  # waiting for the killed shard: not swept as a dead worker itself
        time.sleep(0.01)
        assert jobs_sweep_stalled(stall_after=timedelta(milliseconds=1)) == 1
        assert Job.objects.get(pk=killed.pk).status == JobStatus.QUEUED
        assert Job.objects.get(pk=parent.pk).status == JobStatus.RUNNING
        job_execute(job_id=killed.pk)
        parent.refresh_from_db()
        assert (parent.status, parent.total, parent.done, parent.failed) == (JobStatus.SUCCEEDED, 24, 24, 0)
        # The resume asked exactly the items not stored when the worker died, each once: every item is asked, and
        # the only repeats are calls whose replies the dead worker had not stored yet.
        assert _critique_calls(mock) - asked_at_kill == 24 - stored_at_kill
        assert len({json.dumps(r["body"]) for r in mock.state.requests if "Critique this" in str(r["body"])}) == 24
        shard_cost = sum((shard.cost_usd for shard in Job.objects.filter(parent=parent)), Decimal(0))
        assert parent.cost_usd == shard_cost > 0  # the stage's spend is its shards'
