"""A real round's rough edges, one view test each: the attention check can be passed by following it, a bad answer
is counted and marked as incomplete, the completion code is shown as text, the instructions read as prose."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant, Question
from annotation.services.study import ATTENTION_ITEMS
from tests.annotation.factories import study_make
from tests.annotation.test_participant_views import enter

pytestmark = pytest.mark.django_db


def _save(client: Client, study: object, position: int, **data: str) -> str:
    response = client.post(
        reverse("participant-question", args=[study.public_id, position]), data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    return response.content.decode()


def _correct_letter(participant: Participant, question: Question) -> str:
    answer = Answer.objects.get(participant=participant, question=question)
    return "A" if answer.order_shown == "AB" else "B"


def test_following_the_attention_check_passes_it() -> None:
    study = study_make(personas=1, k=1, n=2, checks=1, reasoning_min_chars=20)
    client = Client()
    enter(client, study, "honest1")
    participant = Participant.objects.get()
    for question in participant.study_persona.questions.order_by("position"):
        page = client.get(reverse("participant-question", args=[study.public_id, question.position])).content.decode()
        if question.is_attention:
            word = re.search(r"(?:write|type) &quot;([^&]+)&quot;", page).group(1)  # what the check asks for
            assert word in {"check", "apple", "seven"}
            assert 'data-min-chars="1"' in page
            status = _save(
                client, study, question.position, choice=_correct_letter(participant, question), reasoning=word
            )
        else:
            assert 'data-min-chars="20"' in page
            status = _save(client, study, question.position, choice="A", reasoning="They value a careful plan.")
        assert "Saved." in status
    finish = client.get(reverse("participant-finish", args=[study.public_id])).content.decode()
    assert "Submit my answers" in finish  # the button stays: every question, the check included, is complete
    assert "3 of 3 questions answered" in finish
    response = client.post(reverse("participant-submit", args=[study.public_id]))
    assert response.url.endswith(f"cc={study.completion_code}")
    participant.refresh_from_db()
    assert not participant.failed_attention_check


def test_every_attention_item_says_what_to_write() -> None:
    for prompt, _correct, _wrong in ATTENTION_ITEMS:
        assert re.search(r'(?:write|type) "([^"]+)"', prompt)


def test_a_bad_answer_is_not_counted_and_is_marked_incomplete() -> None:
    study = study_make(personas=1, k=1, n=3, checks=0, reasoning_min_chars=20)
    client = Client()
    enter(client, study, "hasty1")
    client.get(reverse("participant-question", args=[study.public_id, 1]))
    status = _save(client, study, 1, choice="A", reasoning="short")
    assert "0 of 3 questions answered" in status  # the progress bar counts complete answers only
    # "Save and next" moves on…
    moved = client.post(reverse("participant-question", args=[study.public_id, 1]), {"go": "next"})
    assert moved.url == reverse("participant-question", args=[study.public_id, 2])
    page = client.get(moved.url).content.decode()
    # …and question 1 is marked where the worker sees it.
    assert re.search(r'question-status-1 state-incomplete">.*?incomplete', page)
    assert 'id="reasoning-count"' in page and 'id="reasoning-hint"' in page  # noqa: PT018
    # No choice at all is incomplete too.
    client.post(reverse("participant-question", args=[study.public_id, 2]), {"reasoning": "A long enough reason here."})
    page = client.get(reverse("participant-question", args=[study.public_id, 3])).content.decode()
    assert "question-status-2 state-incomplete" in page
    _save(client, study, 1, reasoning="Now a long enough explanation.")
    page = client.get(reverse("participant-question", args=[study.public_id, 3])).content.decode()
    assert "question-status-1 state-complete" in page
    assert "1 of 3 questions answered" in page


def test_done_page_shows_the_code_as_text_and_each_question() -> None:
    study = study_make(personas=1, k=1, n=1, checks=0, reasoning_min_chars=5)
    client = Client()
    enter(client, study, "done1")
    client.get(reverse("participant-question", args=[study.public_id, 1]))
    _save(client, study, 1, choice="B", reasoning="They would like it.")
    client.post(reverse("participant-submit", args=[study.public_id]))
    page = client.get(reverse("participant-done", args=[study.public_id])).content.decode()
    assert f'<code class="code" id="completion-code">{study.completion_code}</code>' in page
    assert 'data-copy="#completion-code"' in page
    question = Question.objects.get()
    assert question.pair.prompt.text in page
    assert "You chose reply B" in page


def test_instructions_read_as_paragraphs_not_broken_lines() -> None:
    study = study_make(personas=1, k=1, n=1, checks=0)
    client = Client()
    enter(client, study, "reader1")
    page = client.get(reverse("participant-instructions", args=[study.public_id])).content.decode()
    assert "<br>" not in page.split('class="instructions"')[1].split("</div>")[0]
    assert "short profile of one person: their age, work, household" in page


def test_turned_away_arrivals_are_listed_apart_without_release_buttons(coordinator: object) -> None:
    study = study_make(personas=1, k=1, n=1, checks=0)
    enter(Client(), study, "placed1")
    full = enter(Client(), study, "late1")
    assert "no place left" in full.content.decode()
    late = Participant.objects.get(prolific_pid="late1")
    assert list(Participant.objects.turned_away()) == [late]
    client = Client()
    client.force_login(coordinator)
    page = client.get(reverse("study-participants", args=[study.pk])).content.decode()
    table, _, turned_away = page.partition('id="turned-away"')
    assert "late1" not in table
    assert "late1" in turned_away
    assert f'id="participant-{late.pk}"' not in page
    assert "Returned</button>" not in turned_away
    placed = Participant.objects.get(prolific_pid="placed1")
    assert "Returned</button>" in table.split(f'id="participant-{placed.pk}"')[1].split("</tr>")[0]


def test_excluding_a_rater_offers_to_reopen_the_place(coordinator: object) -> None:
    study = study_make(personas=1, k=1, n=1, checks=0, reasoning_min_chars=5)
    worker = Client()
    enter(worker, study, "excluded1")
    worker.get(reverse("participant-question", args=[study.public_id, 1]))
    _save(worker, study, 1, choice="A", reasoning="Because of reasons.")
    worker.post(reverse("participant-submit", args=[study.public_id]))
    rater = Participant.objects.get()
    client = Client()
    client.force_login(coordinator)
    url = reverse("study-participant", args=[study.pk, rater.pk])
    assert 'id="reopen-place"' not in client.get(url).content.decode()
    page = client.post(url, {"decision": "excluded", "note": ""}, follow=True).content.decode()
    assert 'id="reopen-place"' in page
    entry = rater.study_persona
    client.post(reverse("study-slot-add", args=[study.pk, entry.pk]))
    assert study.slots.count() == 2
    assert enter(Client(), study, "replacement1").url == reverse("participant-instructions", args=[study.public_id])
