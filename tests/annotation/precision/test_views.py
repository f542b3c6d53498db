from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Question, Slot, Study
from annotation.precision.recruitment import RecruitmentUnavailable, recruitment_connect, recruitment_current
from annotation.reports.services import report_refresh
from tests.annotation.factories import participant_complete, persona_make, study_make

pytestmark = pytest.mark.django_db


class Recruiter:
    """Stands in for the Prolific client at the interface it connects through."""

    def __init__(self) -> None:
        self.raised: list[int] = []

    def study_cost(self, *, study: Study, places: int, minutes: int) -> str:
        return f"£{places * minutes * 0.15:.2f} for {places} places"

    def recruitment_time(self, *, study: Study, places: int) -> str:
        raise RecruitmentUnavailable("Prolific is down")

    def places_raise(self, *, study: Study, by: int) -> str:
        self.raised.append(by)
        return f"Prolific now has {by} more places."


@pytest.fixture
def recruiter() -> Iterator[Recruiter]:
    connected = Recruiter()
    before = recruitment_current()
    recruitment_connect(connected)
    yield connected
    recruitment_connect(before)


@pytest.fixture
def client(coordinator: object) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


def test_study_page_loads_the_precision_panel(client: Client) -> None:
    study = study_make(personas=2, k=2, n=3)
    page = client.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert reverse("study-precision", args=[study.pk]) in page
    assert reverse("study-precision-running", args=[study.pk]) in page
    assert reverse("study-precision-add", args=[study.pk]) in page


def test_plan_shows_the_alternatives_and_says_prolific_is_not_connected(client: Client) -> None:
    study = study_make(personas=12, k=3, n=4)
    page = client.get(reverse("study-precision", args=[study.pk])).content.decode()
    for label in ("This design", "More personas", "More raters", "More questions", "Cheaper"):
        assert f'<th scope="row">{label}</th>' in page
    assert "default: κ = 0.4 at 3 raters per persona" in page
    assert page.count("not available: Prolific not connected") == 10  # cost and time of five designs
    assert "width 0." in page  # 12 personas: every design shows an interval


def test_plan_with_a_recruiter_shows_its_cost_and_why_time_is_missing(client: Client, recruiter: Recruiter) -> None:
    study = study_make(personas=3, k=2, n=3, estimated_minutes=8)
    page = client.get(reverse("study-precision", args=[study.pk])).content.decode()
    assert "£7.20 for 6 places" in page  # this design: 6 places of 8 minutes
    assert "not available: Prolific is down" in page
    assert "no interval: 3 personas (the report needs at least 10)" in page


def test_plan_from_a_pilot_uses_its_kappa(client: Client) -> None:
    pilot = study_make(personas=2, k=3, n=3, checks=0)
    for n, pick in enumerate(["chosen", "chosen", "rejected", "chosen", "rejected", "rejected"]):
        participant_complete(pilot, f"pilot{n}", pick=pick)
    Study.objects.filter(pk=pilot.pk).update(name="Pilot <b>1</b>")
    study = study_make(personas=2, k=2, n=3, launch=False)
    page = client.get(reverse("study-precision", args=[study.pk]), {"pilot": pilot.pk}).content.decode()
    assert "pilot “Pilot &lt;b&gt;1&lt;/b&gt;”: κ = " in page
    assert f'<option value="{pilot.pk}" selected>' in page


def test_add_raters_adds_a_place_per_persona_and_raises_places(client: Client, recruiter: Recruiter) -> None:
    study = study_make(personas=3, k=2, n=3)
    response = client.post(reverse("study-precision-add", args=[study.pk]), {"what": "raters", "count": "2"})
    assert response.status_code == 302
    assert Slot.objects.filter(study=study).count() == 3 * 4
    assert recruiter.raised == [6]
    page = client.get(response.url).content.decode()
    assert "Added 6 places (2 per persona). Prolific now has 6 more places." in page


def test_add_personas_adds_their_questionnaires_and_places(client: Client) -> None:
    study = study_make(personas=2, k=3, n=3, checks=1)
    extra = persona_make(9)
    response = client.post(reverse("study-precision-add", args=[study.pk]), {"what": "personas", "count": "1"})
    entry = study.study_personas.get(persona=extra)
    assert entry.position == 3
    assert Slot.objects.filter(study_persona=entry).count() == 3
    assert Question.objects.filter(study_persona=entry, kind=Question.Kind.PAIR).count() == 3
    assert Question.objects.filter(study_persona=entry, kind=Question.Kind.ATTENTION).count() == 1
    page = client.get(response.url).content.decode()
    assert "Added 1 personas with 3 places. Places on Prolific were not raised: Prolific not connected." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"what": "raters", "count": "x"}, "Give the number to add as a whole number."),
        ({"what": "raters", "count": "0"}, "Add between 1 and 10 raters per persona."),
        ({"what": "personas", "count": "5"}, "Only 0 usable personas are not in this study yet; 5 were asked for."),
        ({"what": "judges", "count": "1"}, "Choose raters or personas."),
    ],
)
def test_bad_additions_are_refused_and_add_nothing(client: Client, data: dict[str, str], message: str) -> None:
    study = study_make(personas=2, k=2, n=3)
    response = client.post(reverse("study-precision-add", args=[study.pk]), data, follow=True)
    assert message in response.content.decode()
    assert Slot.objects.filter(study=study).count() == 4
    assert study.study_personas.count() == 2


def test_analyst_cannot_add(analyst: object) -> None:
    study = study_make(personas=2, k=2, n=3)
    client = Client()
    client.force_login(analyst)
    response = client.post(reverse("study-precision-add", args=[study.pk]), {"what": "raters", "count": "1"})
    assert response.status_code == 403
    assert Slot.objects.filter(study=study).count() == 4


def test_running_shows_the_reports_headline_and_the_width_to_go(client: Client) -> None:
    study = study_make(personas=10, k=2, n=3, checks=0)
    picks = ["chosen", "rejected", "chosen"]
    for n in range(20):
        participant_complete(study, f"w{n}", pick=picks[n % 3] if n % 4 else "rejected")
    url = reverse("study-precision-running", args=[study.pk])
    before = client.get(url).content.decode()
    assert "no report yet" in before
    data = report_refresh(study=study).data
    row = data["tables"]["loo"]["rows"][0]
    page = client.get(url, {"target": "0.05"}).content.decode()
    assert f"<strong>{row['kappa']:.3f}</strong>" in page
    assert f"95 % interval {row['ci_low']:.3f} to {row['ci_high']:.3f}" in page
    width = row["ci_high"] - row["ci_low"]
    assert f"Still to go: {width - 0.05:.3f} of width to reach the target 0.05" in page
    assert f"roughly {math.ceil(10 * (width / 0.05) ** 2) - 10} more personas" in page
