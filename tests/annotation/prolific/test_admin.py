"""The admin's Prolific pages, as a superuser reaches them: every list and row opens, the filters and the Prolific
ids find their rows, and nothing is added or edited there (waves start from the study page; the rest is Prolific's
answer or a claim the services set before a call)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from annotation.prolific.models import ProlificEvent, ProlificSubmission, ProlificWave
from tests.annotation.prolific.factories import ProlificEventFactory, ProlificSubmissionFactory, ProlificWaveFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Rows:
    wave: ProlificWave
    submission: ProlificSubmission
    other: ProlificSubmission  # in the study's second wave
    event: ProlificEvent


@pytest.fixture
def admin_http(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows() -> Rows:
    wave = ProlificWaveFactory(last_error="Prolific answered 503.")
    second = ProlificWaveFactory(
        study=wave.study, number=2, state=ProlificWave.State.DRAFT, prolific_status="UNPUBLISHED"
    )
    return Rows(
        wave=wave,
        submission=ProlificSubmissionFactory(wave=wave, status="RETURNED"),
        other=ProlificSubmissionFactory(wave=second),
        event=ProlificEventFactory(),
    )


def _url(row: Model, view: str) -> str:
    return reverse(f"admin:annotation_{row._meta.model_name}_{view}", args=[row.pk])


def _list(http: Client, model: str, query: dict[str, object] | None = None) -> str:
    response = http.get(reverse(f"admin:annotation_{model}_changelist"), query or {})
    assert response.status_code == 200, (model, query)  # an unknown filter would redirect to ?e=1
    return response.content.decode()


@pytest.mark.parametrize("name", ["wave", "submission", "event"])
def test_every_list_and_row_opens_read_only(admin_http: Client, rows: Rows, name: str) -> None:
    row = getattr(rows, name)
    assert _url(row, "change") in _list(admin_http, row._meta.model_name)
    page = admin_http.get(_url(row, "change"))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # shown, never edited
    assert admin_http.get(reverse(f"admin:annotation_{row._meta.model_name}_add")).status_code == 403


def test_the_filters_find_their_rows(admin_http: Client, rows: Rows) -> None:
    study = rows.wave.study_id
    assert _url(rows.wave, "change") in _list(admin_http, "prolificwave", {"study__id__exact": study})
    published = _list(admin_http, "prolificwave", {"state__exact": "published"})
    assert _url(rows.wave, "change") in published
    assert _url(rows.other.wave, "change") not in published
    assert _url(rows.other.wave, "change") in _list(admin_http, "prolificwave", {"prolific_status": "UNPUBLISHED"})
    returned = _list(admin_http, "prolificsubmission", {"status": "RETURNED"})
    assert _url(rows.submission, "change") in returned
    assert _url(rows.other, "change") not in returned
    of_study = _list(admin_http, "prolificsubmission", {"wave__study__id__exact": study})
    assert _url(rows.submission, "change") in of_study
    assert _url(rows.other, "change") in of_study
    assert _url(rows.event, "change") in _list(admin_http, "prolificevent", {"event_type": rows.event.event_type})


def test_a_prolific_id_finds_its_row(admin_http: Client, rows: Rows) -> None:
    for text, found, missed in [
        (rows.wave.prolific_study_id, rows.wave, rows.other.wave),
        (rows.submission.submission_id, rows.submission, rows.other),
        (rows.submission.participant_id, rows.submission, rows.other),
        (rows.other.wave.prolific_study_id, rows.other, rows.submission),  # a submission by its study's id
        (rows.event.event_id, rows.event, None),
    ]:
        page = _list(admin_http, found._meta.model_name, {"q": text})
        assert _url(found, "change") in page, text
        assert missed is None or _url(missed, "change") not in page, text


def test_a_wave_shows_its_key_and_error_and_links_to_its_submissions_only(admin_http: Client, rows: Rows) -> None:
    page = admin_http.get(_url(rows.wave, "change")).content.decode()
    assert rows.wave.internal_name in page  # what to look for on Prolific
    assert "Prolific answered 503." in page
    link = f"{reverse('admin:annotation_prolificsubmission_changelist')}?wave__id__exact={rows.wave.pk}"
    assert link in page
    listed = admin_http.get(link)
    assert listed.status_code == 200
    assert _url(rows.submission, "change") in listed.content.decode()
    assert _url(rows.other, "change") not in listed.content.decode()


def test_waves_and_submissions_are_kept_and_events_may_go(admin_http: Client, rows: Rows) -> None:
    for row in (rows.wave, rows.submission):
        assert admin_http.get(_url(row, "delete")).status_code == 403
        assert admin_http.post(_url(row, "delete"), {"post": "yes"}).status_code == 403
    assert admin_http.post(_url(rows.event, "delete"), {"post": "yes"}).status_code == 302
    assert not ProlificEvent.objects.filter(pk=rows.event.pk).exists()
    assert ProlificWave.objects.count() == 2
    assert ProlificSubmission.objects.count() == 2
