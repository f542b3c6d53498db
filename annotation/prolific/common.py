"""What the Prolific services share: the error they raise, our study's places, and how a call's outcome is recorded
on its wave (the panel shows the last failure until a call succeeds)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from annotation.models import Slot, SlotStatus, Study
from annotation.prolific.client import ProlificError
from annotation.prolific.models import ProlificWave


class ProlificServiceError(Exception):
    """The request cannot be carried out; the message is fit to show the coordinator."""


def places_total(*, study: Study) -> int:
    """Places the design asks for: every slot (personas times raters, plus places added later)."""
    return Slot.objects.filter(study=study).count()


def places_free(*, study: Study) -> int:
    return Slot.objects.filter(study=study, status=SlotStatus.FREE).count()


def wave_error_record(*, wave: ProlificWave, exc: ProlificError) -> None:
    ProlificWave.objects.filter(pk=wave.pk).update(last_error=str(exc)[:2000], last_error_at=timezone.now())
    wave.refresh_from_db()


def wave_success_record(*, wave: ProlificWave, **fields: Any) -> None:
    ProlificWave.objects.filter(pk=wave.pk).update(last_error="", last_error_at=None, **fields)
    wave.refresh_from_db()
