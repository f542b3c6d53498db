from __future__ import annotations

from celery import shared_task

from annotation.prolific.sync import prolific_sync_all


@shared_task(name="annotation.prolific_sync", ignore_result=True)
def prolific_sync() -> int:
    """Beat, every minute: read every published wave's submissions from Prolific (the webhook's twin: one code path,
    so a status seen by both is applied once). Idempotent; a failure is recorded on the wave and the next run
    tries again."""
    return prolific_sync_all().changed
