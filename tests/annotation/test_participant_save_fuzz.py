"""Fuzz the participant save: whatever a browser (or someone posing as one) sends, the answer is a success or a
refusal the participant can read, never a 5xx, and a refused save stores nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.models import Answer, Participant
from annotation.services.answers import UNSAVABLE_TEXT_MESSAGE
from tests.annotation.factories import study_make
from tests.annotation.test_participant_views import enter

pytestmark = pytest.mark.django_db

TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(["\x00", "why\x00not", "a" * 600]),
)
FORM = st.fixed_dictionaries(
    {},
    optional={
        "choice": st.one_of(st.sampled_from(["A", "B", "C", ""]), TEXT),
        "reasoning": TEXT,
        "pasted": st.sampled_from(["0", "1", "yes"]),
        "elapsed_ms": st.one_of(st.sampled_from(["0", "-5", "99999999999999", "1e3"]), TEXT),
        "go": st.sampled_from(["next", "previous", "finish", "x"]),
    },
)


@pytest.fixture
def participant_client() -> tuple[Client, object, Participant]:
    study = study_make(personas=1, k=2, n=2, reasoning_max_chars=500)
    client = Client()
    enter(client, study)
    client.get(reverse("participant-question", args=[study.public_id, 1]))
    return client, study, Participant.objects.get()


def _stored(participant: Participant) -> dict[int, tuple[str, str]]:
    answers = Answer.objects.filter(participant=participant).values_list("question_id", "reasoning", "choice")
    return {question: (reasoning, choice) for question, reasoning, choice in answers}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=FORM, htmx=st.booleans(), position=st.sampled_from([1, 2, 3, 0, 99]))
def test_any_save_is_stored_or_refused_never_a_5xx(participant_client, form, htmx, position) -> None:
    client, study, participant = participant_client
    before = _stored(participant)
    url = f"/s/{study.public_id}/q/{position}/"
    response = client.post(url, form, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500
    if "\x00" in form.get("reasoning", ""):
        # Nothing saved: answers keep their text (a page shown with the refusal may open an empty answer).
        assert {
            key: value for key, value in _stored(participant).items() if key in before or value != ("", "")
        } == before
        if htmx and response.status_code == 200:
            body = response.content.decode()
            assert 'class="save-status error"' in body  # the participant sees the save failed (and why)
            assert "Saved." not in body


def test_a_nul_in_the_explanation_says_the_save_failed(participant_client) -> None:
    client, study, participant = participant_client
    url = reverse("participant-question", args=[study.public_id, 1])
    saved = client.post(url, {"choice": "A", "reasoning": "Fine."}, headers={"HX-Request": "true"})
    assert "Saved." in saved.content.decode()
    refused = client.post(url, {"reasoning": "Fine\x00 then."}, headers={"HX-Request": "true"})
    assert refused.status_code == 200
    assert UNSAVABLE_TEXT_MESSAGE in refused.content.decode()
    assert "Saved." not in refused.content.decode()
    assert Answer.objects.get(participant=participant, question__position=1).reasoning == "Fine."
    form = client.post(url, {"reasoning": "Fine\x00 then."})
    assert form.status_code == 400
    assert UNSAVABLE_TEXT_MESSAGE in form.content.decode()
