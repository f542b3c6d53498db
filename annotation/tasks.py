"""Celery finds tasks in each app's ``tasks`` module; the annotation app's live beside the code they run."""

from __future__ import annotations

from annotation.prolific.tasks import prolific_sync

__all__ = ["prolific_sync"]
