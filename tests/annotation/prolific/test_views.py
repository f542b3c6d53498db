"""The study page's Prolific panel, as a coordinator reaches it (Django's test client against the fake)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Participant
from annotation.prolific.common import ProlificServiceError
from annotation.prolific.models import ProlificWave
from annotation.prolific.sync import prolific_sync_all
from annotation.prolific.tasks import prolific_sync
from annotation.prolific.waves import wave_draft_create, wave_publish, wave_start
from annotation.services.slots import participant_enter
from tests.annotation.factories import participant_complete, study_make
from tests.annotation.prolific.fake import FakeProlific

pytestmark = pytest.mark.django_db

ENTRY = "https://lab.example/s/x/?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


def test_not_connected_is_said_plainly(coordinator: object, settings: object) -> None:
    settings.PROLIFIC_API_TOKEN = None  # type: ignore[attr-defined]
    study = study_make(personas=1, k=1)
    http = Client()
    http.force_login(coordinator)
    page = http.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert "Not connected (set PROLIFIC_API_TOKEN)" in page
    response = http.post(reverse("prolific-wave-create", args=[study.pk]), {"reward_cents": "100"}, follow=True)
    assert "not connected" in response.content.decode()
    assert not ProlificWave.objects.exists()


def test_draft_publish_sync_and_down_state(coordinator: object, prolific: FakeProlific) -> None:
    study = study_make(personas=2, k=1)
    http = Client()
    http.force_login(coordinator)
    detail = reverse("study-detail", args=[study.pk])
    form = {"reward_cents": "150", "estimated_minutes": "12", "devices": ["desktop", "tablet"]}
    http.post(reverse("prolific-wave-create", args=[study.pk]), form)
    wave = ProlificWave.objects.get()
    assert wave.state == ProlificWave.State.DRAFT
    remote = prolific.studies[wave.prolific_study_id]
    assert remote["device_compatibility"] == ["desktop", "tablet"]
    assert remote["external_study_url"].endswith(
        f"/s/{study.public_id}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}"
        "&SESSION_ID={{%SESSION_ID%}}"
    )
    publish = reverse("prolific-wave-publish", args=[study.pk, wave.pk])
    confirmation = http.get(publish).content.decode()
    assert "400 cents" in confirmation  # Prolific's cost for 2 places at 150, shown before anything is spent
    assert remote["status"] == "UNPUBLISHED"
    http.post(publish)
    assert remote["status"] == "ACTIVE"
    page = http.get(detail).content.decode()
    assert 'id="wave-1"' in page
    assert "ACTIVE" in page

    prolific.fail("GET", r"^/api/v1/studies/[^/]+/$", "500", times=3)
    http.post(reverse("prolific-sync", args=[study.pk]))
    page = http.get(detail).content.decode()
    assert "Prolific is not answering" in page
    http.post(reverse("prolific-sync", args=[study.pk]))
    assert "Prolific is not answering" not in http.get(detail).content.decode()


def test_reject_shows_the_message_before_sending(coordinator: object, prolific: FakeProlific) -> None:
    study = study_make(personas=1, k=1, checks=1)
    http = Client()
    http.force_login(coordinator)
    http.post(reverse("prolific-wave-create", args=[study.pk]), {"reward_cents": "100", "devices": ["desktop"]})
    wave = ProlificWave.objects.get()
    http.post(reverse("prolific-wave-publish", args=[study.pk, wave.pk]))
    submission = prolific.worker_start(wave.prolific_study_id, "R1")
    assert submission is not None
    participant = participant_complete(study, "R1")
    Participant.objects.filter(pk=participant.pk).update(prolific_session_id=submission)
    prolific.worker_finish(submission, study.completion_code)
    http.post(reverse("prolific-sync", args=[study.pk]))
    url = reverse("prolific-reject", args=[study.pk, participant.pk])
    short = http.post(url, {"category": "LOW_EFFORT", "message": "No."})
    assert short.status_code == 400
    assert "at least 100" in short.content.decode()
    message = "Your explanations <b>repeat</b> the same sentence for every question. " * 2
    preview = http.post(url, {"category": "LOW_EFFORT", "message": message}).content.decode()
    assert "Your explanations &lt;b&gt;repeat&lt;/b&gt;" in preview  # escaped, exactly as the worker reads it
    assert prolific.rejections == {}
    http.post(url, {"category": "LOW_EFFORT", "message": message, "confirm": "yes"})
    assert prolific.rejections == {submission: 1}
    participant.refresh_from_db()
    assert participant.review == Participant.Review.EXCLUDED


def test_a_publish_whose_answer_was_lost_is_adopted_by_the_next_sync(
    coordinator: object, prolific: FakeProlific
) -> None:
    study = study_make(personas=1, k=2)
    wave = wave_start(study=study, reward_cents=100, estimated_minutes=5)
    wave = wave_draft_create(wave=wave, entry_url=ENTRY, devices=["desktop"])
    prolific.fail("POST", r"/transition/$", "timeout")
    with pytest.raises(ProlificServiceError, match="next sync"):
        wave_publish(wave=wave)
    assert prolific.studies[wave.prolific_study_id]["status"] == "ACTIVE"  # Prolific did publish
    prolific_sync_all()
    wave.refresh_from_db()
    assert wave.state == ProlificWave.State.PUBLISHED
    assert wave.last_error == ""
    assert [c for c in prolific.calls if c[1].endswith("/transition/")] == [
        ("POST", f"/api/v1/studies/{wave.prolific_study_id}/transition/", 200)
    ]


def test_the_beat_task_syncs(prolific: FakeProlific) -> None:
    study = study_make(personas=1, k=1)
    wave = wave_publish(
        wave=wave_draft_create(
            wave=wave_start(study=study, reward_cents=100, estimated_minutes=5),
            entry_url=ENTRY,
            devices=["desktop"],
        )
    )
    submission = prolific.worker_start(wave.prolific_study_id, "T1")
    participant_enter(study=study, pid="T1", study_param=wave.prolific_study_id, session_param=submission)
    prolific.worker_leave(submission, "RETURNED")
    assert prolific_sync() >= 1
    assert Participant.objects.get(prolific_pid="T1").status == Participant.Status.RETURNED
    assert prolific_sync() == 0  # nothing changes twice
