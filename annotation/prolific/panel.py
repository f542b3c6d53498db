"""What the study page's Prolific panel shows: each wave with its submissions counted by status, the raters to
approve or review, and whether a next wave may be started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotation.models import Participant, Study
from annotation.prolific import client
from annotation.prolific.common import places_free
from annotation.prolific.models import ProlificSubmission, ProlificWave
from annotation.prolific.review import approvable
from annotation.prolific.waves import reward_default


@dataclass(frozen=True)
class WaveRow:
    wave: ProlificWave
    counts: dict[str, int]


def study_prolific_panel(*, study: Study) -> dict[str, Any]:
    """What the study page's Prolific panel shows."""
    rows = []
    for wave in study.prolific_waves.order_by("number"):
        counts: dict[str, int] = {}
        for status in wave.submissions.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        rows.append(WaveRow(wave=wave, counts=counts))
    down = [r.wave for r in rows if r.wave.last_error]
    passed = {row.participant_id for row in approvable(study=study)}
    awaiting = ProlificSubmission.objects.filter(wave__study=study, status="AWAITING REVIEW").values_list(
        "participant_id", flat=True
    )
    # Raters who did not pass our checks; never an arrival turned away for want of a place (not their fault).
    review_rest = Participant.objects.filter(
        study=study,
        is_preview=False,
        study_persona__isnull=False,
        prolific_pid__in=[pid for pid in awaiting if pid not in passed],
    ).order_by("id")
    return {
        "connected": client.is_configured(),
        "waves": rows,
        "down": down,
        "approvable": len(passed),
        "review_rest": list(review_rest),
        "free_places": places_free(study=study),
        # A later wave is offered once every wave is published, the latest has stopped recruiting, and places
        # are still free (raising places on the running wave is automatic).
        "next_wave_ok": bool(rows)
        and all(r.wave.is_published for r in rows)
        and rows[-1].wave.prolific_status != "ACTIVE"
        and places_free(study=study) > 0,
        "reward_default": reward_default(estimated_minutes=study.estimated_minutes),
    }
