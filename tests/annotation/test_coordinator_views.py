from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant, Slot, SlotStatus, Study, StudyStatus
from tests.annotation.factories import pairs_make, persona_make, study_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(coordinator: object) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


def test_create_form_makes_a_draft_study(coordinator_client: Client) -> None:
    people = [persona_make(i) for i in range(4)]
    pairs_make(6)
    response = coordinator_client.post(
        reverse("study-create"),
        {
            "name": "Round 1",
            "persona_mode": "filter",
            "sample_size": 2,
            "pairs_per_persona": 3,
            "raters_per_persona": 4,
            "majority_threshold": 3,
            "attention_checks": 1,
            "reasoning_min_chars": 10,
            "reasoning_max_chars": 500,
            "estimated_minutes": 10,
            "seed": 5,
            "instructions": "Role-play the person.",
        },
    )
    study = Study.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("study-detail", args=[study.pk])
    assert study.status == StudyStatus.DRAFT
    assert study.study_personas.count() == 2
    assert set(study.study_personas.values_list("persona_id", flat=True)) <= {p.pk for p in people}
    assert Slot.objects.filter(study=study).count() == 8


def test_create_form_shows_errors(coordinator_client: Client) -> None:
    persona_make()
    response = coordinator_client.post(
        reverse("study-create"),
        {
            "name": "x",
            "persona_mode": "filter",
            "pairs_per_persona": 3,
            "raters_per_persona": 2,
            "majority_threshold": 3,
            "attention_checks": 0,
            "reasoning_min_chars": 1,
            "reasoning_max_chars": 10,
            "estimated_minutes": 5,
            "seed": 0,
            "instructions": "i",
        },
    )
    assert response.status_code == 200
    assert "cannot exceed" in response.content.decode()
    assert not Study.objects.exists()


def test_detail_shows_the_prolific_url_and_dashboard(coordinator_client: Client) -> None:
    study = study_make()
    page = coordinator_client.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert (
        f"/s/{study.public_id}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&amp;STUDY_ID={{{{%STUDY_ID%}}}}"
        f"&amp;SESSION_ID={{{{%SESSION_ID%}}}}" in page
    )
    assert f'hx-get="{reverse("study-detail", args=[study.pk])}" hx-trigger="every 5s"' in page
    assert "<html" in page
    partial = coordinator_client.get(reverse("study-detail", args=[study.pk]), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.content.decode().lstrip().startswith('<div id="dashboard"')
    assert "<html" not in partial.content.decode()
    assert "prolific-url" not in partial.content.decode()
    old = coordinator_client.get(f"/studies/{study.pk}/dashboard/")
    assert old.status_code == 301
    assert old["Location"] == reverse("study-detail", args=[study.pk])


def test_lifecycle_buttons(coordinator_client: Client) -> None:
    study = study_make(launch=False)
    coordinator_client.post(reverse("study-action", args=[study.pk]), {"action": "launch"})
    study.refresh_from_db()
    assert study.status == StudyStatus.LIVE
    coordinator_client.post(reverse("study-action", args=[study.pk]), {"action": "pause"})
    study.refresh_from_db()
    assert study.status == StudyStatus.PAUSED


def test_preview_walks_the_flow_without_using_a_slot(coordinator_client: Client) -> None:
    study = study_make(personas=1, k=1, n=1, checks=0, launch=False)
    entry = study.study_personas.get()
    response = coordinator_client.post(reverse("study-preview", args=[study.pk]), {"entry": entry.pk})
    assert response.url == reverse("participant-instructions", args=[study.public_id])
    assert coordinator_client.get(reverse("participant-persona", args=[study.public_id])).status_code == 200
    url = reverse("participant-question", args=[study.public_id, 1])
    assert "Preview" in coordinator_client.get(url).content.decode()
    coordinator_client.post(url, {"choice": "A", "reasoning": "preview reasoning"})
    done = coordinator_client.post(reverse("participant-submit", args=[study.public_id]))
    assert done.url == reverse("participant-done", args=[study.public_id])
    assert Slot.objects.get().status == SlotStatus.FREE
    # A second preview starts clean.
    coordinator_client.post(reverse("study-preview", args=[study.pk]), {"entry": entry.pk})
    assert not Answer.objects.exists()
    assert Participant.objects.get().status == Participant.Status.ACTIVE


def test_analyst_cannot_run_the_console(analyst: object) -> None:
    client = Client()
    client.force_login(analyst)
    study = study_make(launch=False)
    assert client.get(reverse("study-list")).status_code == 200
    assert client.get(reverse("study-create")).status_code == 403
    assert client.post(reverse("study-action", args=[study.pk]), {"action": "launch"}).status_code == 403
    assert client.get(reverse("study-bonuses", args=[study.pk])).status_code == 403


def test_anonymous_is_sent_to_login() -> None:
    study = study_make()
    response = Client().get(reverse("study-detail", args=[study.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    assert Client().get(reverse("study-export", args=[study.pk, "answers.csv"])).status_code == 302
