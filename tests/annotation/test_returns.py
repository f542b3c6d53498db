from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotation.models import Participant, Slot, SlotStatus
from annotation.services.returns import ReturnsError, returns_import
from annotation.services.slots import EntryOutcome, participant_enter
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db

EXPORT_HEADER = "Submission id,Participant id,Status,Started at,Completed at,Time taken,Completion code\n"


def test_manual_release_frees_the_slot(coordinator: object) -> None:
    study = study_make(personas=1, k=1)
    participant = participant_enter(study=study, pid="gone").participant
    client = Client()
    client.force_login(coordinator)
    url = reverse("study-participant-release", args=[study.pk, participant.pk])
    client.post(url, {"status": "returned"})
    participant.refresh_from_db()
    assert participant.status == Participant.Status.RETURNED
    assert Slot.objects.get().status == SlotStatus.FREE
    assert participant_enter(study=study, pid="next").outcome == EntryOutcome.ASSIGNED


def test_submissions_export_releases_returned_and_timed_out() -> None:
    study = study_make(personas=1, k=3)
    for pid in ("a1", "b2", "c3"):
        participant_enter(study=study, pid=pid, session_param=f"sub-{pid}")
    export = (
        EXPORT_HEADER + "sub-a1,a1,RETURNED,,,,\n" + "sub-b2,b2,TIMED-OUT,,,,\n" + "sub-c3,c3,ACTIVE,,,,\n"
        "sub-zz,zz,RETURNED,,,,\n"
    )
    result = returns_import(study=study, data=export.encode())
    assert sorted(result.released) == ["a1", "b2"]
    assert result.unknown == 1
    assert Slot.objects.filter(status=SlotStatus.FREE).count() == 2
    statuses = dict(Participant.objects.values_list("prolific_pid", "status"))
    assert statuses == {"a1": "returned", "b2": "timed_out", "c3": "active"}
    again = returns_import(study=study, data=export.encode())
    assert (again.released, again.already) == ([], 2)


def test_export_without_the_right_columns_is_refused() -> None:
    study = study_make()
    with pytest.raises(ReturnsError, match="participant id"):
        returns_import(study=study, data=b"foo,bar\n1,2\n")


def test_export_with_a_nul_is_refused_with_the_line() -> None:
    study = study_make(personas=1, k=1)
    participant_enter(study=study, pid="nul1")
    with pytest.raises(ReturnsError, match="line 2 contains a NUL character"):
        returns_import(study=study, data=(EXPORT_HEADER + "s,nul1\x00,RETURNED,,,,\n").encode())
    assert Participant.objects.get().status == Participant.Status.ACTIVE


def test_upload_view(coordinator: object) -> None:
    study = study_make(personas=1, k=1)
    participant_enter(study=study, pid="up1")
    client = Client()
    client.force_login(coordinator)
    upload = SimpleUploadedFile("export.csv", (EXPORT_HEADER + "s,up1,RETURNED,,,,\n").encode())
    response = client.post(reverse("study-returns", args=[study.pk]), {"file": upload}, follow=True)
    assert "Released 1 place" in response.content.decode()


def _signed(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp or int(time.time()))
    signature = base64.b64encode(hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    return {"X-Prolific-Request-Timestamp": stamp, "X-Prolific-Request-Signature": signature}


def test_webhook_releases_by_submission_id(settings: object) -> None:
    settings.PROLIFIC_WEBHOOK_SECRET = "s3cret"
    study = study_make(personas=1, k=1)
    participant_enter(study=study, pid="hook1", study_param="PS1", session_param="SUB1")
    body = json.dumps({"event_type": "submission.status.change", "resource_id": "SUB1", "status": "RETURNED"}).encode()
    url = reverse("prolific-webhook")
    client = Client()
    assert client.post(url, body, content_type="application/json").status_code == 403
    assert client.post(url, body, content_type="application/json", headers=_signed(body, "wrong")).status_code == 403
    stale = _signed(body, "s3cret", int(time.time()) - 3600)
    assert client.post(url, body, content_type="application/json", headers=stale).status_code == 403
    response = client.post(url, body, content_type="application/json", headers=_signed(body, "s3cret"))
    assert response.json() == {"duplicate": False, "changed": True, "released": True, "unknown": False}
    assert Slot.objects.get().status == SlotStatus.FREE
    # Prolific retries with the same X-Event-ID: acknowledged, applied once.
    again = {**_signed(body, "s3cret"), "X-Event-ID": "evt-1"}
    assert client.post(url, body, content_type="application/json", headers=again).json()["duplicate"] is False
    assert client.post(url, body, content_type="application/json", headers=again).json()["duplicate"] is True


def test_webhook_is_closed_without_a_secret(settings: object) -> None:
    settings.PROLIFIC_WEBHOOK_SECRET = None
    body = b"{}"
    response = Client().post(
        reverse("prolific-webhook"), body, content_type="application/json", headers=_signed(body, "")
    )
    assert response.status_code == 403


def test_expired_reservation_is_given_away_and_late_holder_sees_a_polite_page() -> None:
    study = study_make(personas=1, k=1, estimated_minutes=4)
    late = participant_enter(study=study, pid="late").participant
    Slot.objects.update(reserved_at=timezone.now() - timedelta(minutes=study.max_minutes + 1))
    assert participant_enter(study=study, pid="fresh").outcome == EntryOutcome.ASSIGNED
    late.refresh_from_db()
    assert late.status == Participant.Status.TIMED_OUT
    assert participant_enter(study=study, pid="late").outcome == EntryOutcome.RELEASED


def test_late_holder_may_finish_while_nobody_took_the_slot() -> None:
    study = study_make(personas=1, k=1, estimated_minutes=4)
    participant_enter(study=study, pid="slow")
    Slot.objects.update(reserved_at=timezone.now() - timedelta(hours=2))
    assert participant_enter(study=study, pid="slow").outcome == EntryOutcome.ASSIGNED


def test_webhook_with_a_nul_in_an_id_changes_nothing(client: Client, settings: object) -> None:
    settings.PROLIFIC_WEBHOOK_SECRET = "s3cret"
    body = json.dumps(
        {"event_type": "submission.status.change", "status": "RETURNED", "resource_id": "sub\u0000", "study_id": "x"}
    ).encode()
    response = client.post(
        reverse("prolific-webhook"), body, content_type="application/json", headers=_signed(body, "s3cret")
    )
    assert response.status_code < 500
