"""Jobs spread over shards: the parent waits for its shards without being taken for dead, ends by their counts or
failed when one failed, and the sweep ends a parent whose last shard's worker died before doing so."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from core.jobs import (
    MAX_ATTEMPTS,
    JobRun,
    job_claim,
    job_execute,
    job_shard_counts,
    job_start,
    jobs_sweep_stalled,
    register_job_kind,
)
from core.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@register_job_kind("tests.sharded", label="Test sharded")
def sharded(run: JobRun) -> None:
    run.set_total(3 * run.params["per_shard"], already_done=0)
    with transaction.atomic():
        for index in range(3):
            job_start(kind="tests.shard", params={"index": index, "n": run.params["per_shard"]}, parent=run.job)


@register_job_kind("tests.shard", label="Test shard")
def shard(run: JobRun) -> None:
    run.set_total(run.params["n"])
    failed = 1 if run.params.get("fail_one") else 0
    run.advance(done=run.params["n"] - 1 - failed, failed=failed)
    run.advance(done=1)
    run.add_usage(input_tokens=10, output_tokens=5)


def _parent(per_shard: int = 4) -> tuple[Job, list[Job]]:
    parent = job_start(kind="tests.sharded", params={"per_shard": per_shard})
    job_execute(job_id=parent.pk)
    return Job.objects.get(pk=parent.pk), list(Job.objects.filter(parent=parent).order_by("pk"))


def test_the_parent_waits_for_its_shards_and_sums_them():
    parent, shards = _parent()
    assert parent.status == JobStatus.RUNNING  # its handler returned; its shards have not run
    assert job_shard_counts(job=parent) == [("Queued", 3)]
    for part in shards:
        job_execute(job_id=part.pk)
    parent.refresh_from_db()
    assert (parent.status, parent.total, parent.done, parent.failed) == (JobStatus.SUCCEEDED, 12, 12, 0)
    assert (parent.input_tokens, parent.output_tokens) == (30, 15)
    assert job_shard_counts(job=parent) == [("Succeeded", 3)]


def test_a_parent_waiting_for_shards_is_neither_swept_nor_taken_over():
    parent, _ = _parent()
    Job.objects.filter(pk=parent.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert not job_claim(job_id=parent.pk)  # a redelivered parent message: the shards are at work
    assert jobs_sweep_stalled(stall_after=timedelta(minutes=1)) == 0
    assert Job.objects.get(pk=parent.pk).status == JobStatus.RUNNING


def test_the_sweep_ends_a_parent_whose_last_shard_ended_without_ending_it():
    parent, shards = _parent()
    for part in shards:
        job_execute(job_id=part.pk)
    # As if the last shard's worker died between ending its shard and ending the parent.
    Job.objects.filter(pk=parent.pk).update(status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    jobs_sweep_stalled(stall_after=timedelta(minutes=1))
    assert Job.objects.get(pk=parent.pk).status == JobStatus.SUCCEEDED


def test_a_shard_with_failed_items_makes_the_parent_finish_with_failures():
    parent = job_start(kind="tests.sharded", params={"per_shard": 4})
    job_execute(job_id=parent.pk)
    first, *rest = Job.objects.filter(parent=parent).order_by("pk")
    Job.objects.filter(pk=first.pk).update(params={"index": 0, "n": 4, "fail_one": True})
    for part in (first, *rest):
        job_execute(job_id=part.pk)
    parent.refresh_from_db()
    assert (parent.status, parent.done, parent.failed) == (JobStatus.PARTIAL, 11, 1)


def test_a_shard_the_sweep_gives_up_on_fails_the_parent():
    parent, shards = _parent()
    for part in shards[:2]:
        job_execute(job_id=part.pk)
    dead = shards[2]
    Job.objects.filter(pk=dead.pk).update(
        status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    time.sleep(0.01)
    jobs_sweep_stalled(stall_after=timedelta(minutes=1))
    parent.refresh_from_db()
    assert parent.status == JobStatus.FAILED  # never "succeeded" with a shard that did not finish
    assert f"Shard #{dead.pk} failed: The worker stopped reporting" in parent.error
    assert parent.done == 8
