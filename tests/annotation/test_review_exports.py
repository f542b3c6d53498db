from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Participant
from annotation.services.review import Flag, participant_review_set, participants_quality, study_majorities
from annotation.services.study import slot_add
from tests.annotation.factories import participant_complete, study_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated_study() -> object:
    """One persona, k=4, 2 pair questions + 1 check: three raters pick chosen, one picks rejected."""
    study = study_make(personas=1, k=4, n=2, checks=1)
    for i in range(3):
        participant_complete(study, f"yes{i}", pick="chosen")
    participant_complete(study, "no0", pick="rejected", reasoning="short", elapsed_ms=1000)
    return study


def test_majority_is_three_of_four_and_excluded_raters_leave_it(rated_study: object) -> None:
    majorities = list(study_majorities(study=rated_study))
    assert len(majorities) == 2
    assert all(m.result.label == "chosen" for m in majorities)
    assert all((m.result.chosen_votes, m.result.rejected_votes, m.raters) == (3, 1, 4) for m in majorities)
    participant_review_set(participant=Participant.objects.get(prolific_pid="yes0"), decision="excluded")
    after = list(study_majorities(study=rated_study))
    assert all((m.result.chosen_votes, m.result.label) == (2, "") for m in after)


def test_k_plus_one_rater_then_drop_one_set(rated_study: object) -> None:
    slot_add(study_persona=rated_study.study_personas.get())
    participant_complete(rated_study, "extra", pick="rejected")
    tied = list(study_majorities(study=rated_study))
    assert all((m.result.chosen_votes, m.result.rejected_votes, m.raters) == (3, 2, 5) for m in tied)
    participant_review_set(participant=Participant.objects.get(prolific_pid="no0"), decision="excluded")
    assert all(m.raters == 4 for m in study_majorities(study=rated_study))


def test_flags(rated_study: object) -> None:
    reports = {r.participant.prolific_pid: r for r in participants_quality(study=rated_study)}
    assert Flag.TOO_FAST in reports["no0"].flags
    assert Flag.SHORT in reports["no0"].flags
    assert Flag.REPEATED in reports["yes0"].flags
    assert Flag.FAILED_CHECK not in reports["yes0"].flags


def test_review_page_and_decisions(rated_study: object, coordinator: object) -> None:
    client = Client()
    client.force_login(coordinator)
    participant = Participant.objects.get(prolific_pid="no0")
    listing = client.get(reverse("study-participants", args=[rated_study.pk])).content.decode()
    assert "too fast" in listing
    assert "no0" in listing
    url = reverse("study-participant", args=[rated_study.pk, participant.pk])
    assert "short" in client.get(url).content.decode()
    client.post(url, {"decision": "excluded", "note": "rushed"})
    participant.refresh_from_db()
    assert participant.review == Participant.Review.EXCLUDED


def test_answers_exports(rated_study: object, coordinator: object, analyst: object) -> None:
    client = Client()
    client.force_login(coordinator)
    body = b"".join(client.get(reverse("study-export", args=[rated_study.pk, "answers.csv"])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 4 * 3
    assert {r["choice"] for r in rows} == {"chosen", "rejected"}
    assert {r["order_shown"] for r in rows} <= {"AB", "BA"}
    assert rows[0]["prolific_pid"]
    jsonl = b"".join(client.get(reverse("study-export", args=[rated_study.pk, "answers.jsonl"])).streaming_content)
    records = [json.loads(line) for line in jsonl.decode().splitlines()]
    assert len(records) == 12
    assert isinstance(records[0]["answer_flags"], list)
    majority = b"".join(client.get(reverse("study-export", args=[rated_study.pk, "majority.csv"])).streaming_content)
    majority_rows = list(csv.DictReader(io.StringIO(majority.decode())))
    assert [(r["chosen_votes"], r["rejected_votes"], r["majority"]) for r in majority_rows] == [
        ("3", "1", "chosen")
    ] * 2
    # Analysts may export, but never see Prolific IDs.
    client.force_login(analyst)
    body = b"".join(client.get(reverse("study-export", args=[rated_study.pk, "answers.csv"])).streaming_content)
    assert not any(r["prolific_pid"] for r in csv.DictReader(io.StringIO(body.decode())))


def test_csv_export_defuses_formulas(coordinator: object) -> None:
    study = study_make(personas=1, k=1, n=1, checks=0)
    participant_complete(study, "f1", reasoning="=HYPERLINK(evil) because")
    client = Client()
    client.force_login(coordinator)
    body = b"".join(client.get(reverse("study-export", args=[study.pk, "answers.csv"])).streaming_content).decode()
    assert "'=HYPERLINK" in body


def test_api_hides_pids_from_analysts(rated_study: object, coordinator: object, analyst: object) -> None:
    client = Client()
    client.force_login(analyst)
    data = client.get("/api/participants/", {"study": rated_study.pk}).json()
    assert data["count"] == 4
    assert "prolific_pid" not in data["results"][0]
    assert client.get("/api/studies/").json()["count"] == 1
    answers = client.get("/api/answers/", {"study": rated_study.pk}).json()
    assert answers["count"] == 12
    client.force_login(coordinator)
    data = client.get("/api/participants/", {"study": rated_study.pk}).json()
    assert data["results"][0]["prolific_pid"]
    assert Client().get("/api/answers/").status_code in (401, 403)
