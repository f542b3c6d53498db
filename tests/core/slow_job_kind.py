"""A job kind for tests that run a real worker process (``worker_process(..., include=(__name__,))``): the worker
imports this module to know the kind, the test imports it to start one."""

from __future__ import annotations

import time

from django.utils import timezone

from core.jobs import JobRun, register_job_kind
from core.models import Statistic

SLOW_ITEMS = "tests.slow_items"


@register_job_kind(SLOW_ITEMS, label="Test slow items")
def slow_items(run: JobRun) -> None:
    """One Statistic per item, ``sleep`` seconds apart; the key is unique, so an item run twice fails the job."""
    count = run.params["count"]
    done = set(Statistic.objects.filter(key__startswith=f"slow.{run.job.pk}.").values_list("key", flat=True))
    run.set_total(count, already_done=len(done))
    for index in range(count):
        key = f"slow.{run.job.pk}.{index}"
        if key in done:
            continue
        time.sleep(run.params.get("sleep", 0))
        Statistic.objects.create(key=key, label=key, value=index, computed_at=timezone.now())
        run.advance()
