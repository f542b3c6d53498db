"""The precision panel asks Prolific (the fake) for cost and time to fill, and raises places after an addition."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Slot
from annotation.prolific.models import ProlificWave
from tests.annotation.factories import study_make
from tests.annotation.prolific.fake import FakeProlific

pytestmark = pytest.mark.django_db


def test_plan_shows_prolifics_cost_and_time(coordinator: object, prolific: FakeProlific) -> None:
    study = study_make(personas=12, k=3, n=4)
    http = Client()
    http.force_login(coordinator)
    page = http.get(reverse("study-precision", args=[study.pk])).content.decode()
    assert "not available" not in page
    assert "incl. Prolific&#x27;s fees" in page or "incl. Prolific's fees" in page
    assert "about " in page  # the fake's display_string, "about N hours"
    assert " hours" in page


def test_adding_raters_raises_places_on_the_published_study(coordinator: object, prolific: FakeProlific) -> None:
    study = study_make(personas=2, k=1)
    http = Client()
    http.force_login(coordinator)
    http.post(reverse("prolific-wave-create", args=[study.pk]), {"reward_cents": "150", "devices": ["desktop"]})
    wave = ProlificWave.objects.get()
    http.post(reverse("prolific-wave-publish", args=[study.pk, wave.pk]))
    remote = prolific.studies[wave.prolific_study_id]
    assert remote["total_available_places"] == 2
    page = http.post(reverse("study-precision-add", args=[study.pk]), {"what": "raters", "count": "1"}, follow=True)
    assert Slot.objects.filter(study=study).count() == 4
    assert remote["total_available_places"] == 4
    assert "Places on Prolific: 2 → 4." in page.content.decode()
