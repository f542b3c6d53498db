"""One apply path for the poll and the webhook: late, repeated and out-of-order statuses change nothing twice."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Participant, Slot, SlotStatus
from annotation.prolific.models import ProlificSubmission
from annotation.prolific.sync import prolific_sync_all
from annotation.prolific.waves import wave_draft_create, wave_publish, wave_start
from annotation.services.slots import participant_enter
from annotation.services.study import slot_add
from tests.annotation.factories import study_make
from tests.annotation.prolific.fake import Event, FakeProlific

pytestmark = pytest.mark.django_db

ENTRY = "https://lab.example/s/x/?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


def _published(prolific: FakeProlific, **study: object) -> tuple[object, object]:
    made = study_make(**study)  # type: ignore[arg-type]
    wave = wave_start(study=made, reward_cents=100, estimated_minutes=5)
    wave = wave_draft_create(wave=wave, entry_url=ENTRY, devices=["desktop"])
    return made, wave_publish(wave=wave)


def test_an_older_status_arriving_late_changes_nothing(prolific: FakeProlific) -> None:
    study, wave = _published(prolific, personas=1, k=2)
    submission = prolific.worker_start(wave.prolific_study_id, "L1")
    participant_enter(study=study, pid="L1", study_param=wave.prolific_study_id, session_param=submission)
    prolific.worker_leave(submission, "RETURNED")
    events = list(prolific.events)
    http = Client()
    for event in reversed(events):  # RETURNED first, then the older ACTIVE
        response = http.post(
            reverse("prolific-webhook"), event.body, content_type="application/json", headers=prolific.signed(event)
        )
        assert response.status_code == 200
    assert ProlificSubmission.objects.get().status == "RETURNED"
    assert Participant.objects.get().status == Participant.Status.RETURNED
    assert Slot.objects.filter(status=SlotStatus.FREE).count() == 2
    # The poll sees the same status: nothing changes again.
    assert prolific_sync_all().changed == 0


def test_a_forged_or_replayed_delivery_is_refused_or_ignored(prolific: FakeProlific) -> None:
    study, wave = _published(prolific, personas=1, k=1)
    submission = prolific.worker_start(wave.prolific_study_id, "F1")
    participant_enter(study=study, pid="F1", study_param=wave.prolific_study_id, session_param=submission)
    forged = Event(
        "evt-forged",
        json.dumps(
            {
                "event_type": "submission.status.change",
                "resource_id": submission,
                "participant_id": "F1",
                "status": "RETURNED",
            }
        ).encode(),
        0,
    )
    headers = prolific.signed(forged)
    headers["X-Prolific-Request-Signature"] = "AAAA" + headers["X-Prolific-Request-Signature"][4:]
    http = Client()
    url = reverse("prolific-webhook")
    assert http.post(url, forged.body, content_type="application/json", headers=headers).status_code == 403
    assert Participant.objects.get().status == Participant.Status.ACTIVE


def test_places_are_raised_only_up(prolific: FakeProlific) -> None:
    study, wave = _published(prolific, personas=2, k=1)
    remote = prolific.studies[wave.prolific_study_id]
    entry = study.study_personas.first()
    slot_add(study_persona=entry)
    prolific_sync_all()
    assert remote["total_available_places"] == 3
    wave.refresh_from_db()
    assert (wave.places_asked, wave.places_prolific) == (3, 3)
    Slot.objects.filter(study=study, index=1).delete()  # fewer places needed now: Prolific keeps its number
    prolific_sync_all()
    assert remote["total_available_places"] == 3
    assert [c for c in prolific.calls if c[0] == "PATCH"] == [
        ("PATCH", f"/api/v1/studies/{wave.prolific_study_id}/", 200)
    ]
