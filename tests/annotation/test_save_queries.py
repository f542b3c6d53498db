"""The htmx answer save is the hot path of a live study: pin its query count and what the lean path returns."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, AnswerError, answer_open, answer_save
from annotation.services.participant_store import answer_update
from benchmarks.judging.models import Order
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# At most: the session (when it lives in the database), one conditional UPDATE that also checks the participant, and
# the read for the progress bar (on PostgreSQL part of the UPDATE's statement). The questions, the persona and the
# answer texts are never loaded.
SAVE_QUERIES = 3


def _entered(client: Client, **settings: object) -> tuple[object, Participant]:
    study = study_make(personas=1, k=1, n=3, **settings)
    url = reverse("participant-entry", args=[study.public_id])
    client.get(url, {"PROLIFIC_PID": "pid-queries", "STUDY_ID": "st", "SESSION_ID": "se"})
    return study, Participant.objects.get()


def test_htmx_save_query_count_is_pinned(django_assert_max_num_queries: object) -> None:
    client = Client()
    study, _participant = _entered(client)
    url = reverse("participant-question", args=[study.public_id, 2])
    client.get(url)
    with django_assert_max_num_queries(SAVE_QUERIES) as captured:  # type: ignore[operator]
        response = client.post(
            url, {"choice": "A", "reasoning": "Because they would.", "elapsed_ms": "900"}, headers=HTMX
        )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert not [q["sql"] for q in captured.captured_queries if "personas_persona" in q["sql"]]


def test_htmx_save_renders_status_and_progress() -> None:
    client = Client()
    study, participant = _entered(client)
    url = reverse("participant-question", args=[study.public_id, 1])
    client.get(url)
    page = client.post(url, {"choice": "B", "reasoning": "Because they would."}, headers=HTMX).content.decode()
    assert 'id="save-status"' in page
    assert "Saved." in page
    assert 'hx-swap-oob="true"' in page
    total = len(questions_for(participant=participant))
    assert f"1 of {total} questions answered" in page
    # An unchanged save (nothing new, no time) leaves the answer as it was.
    before = Answer.objects.get(participant=participant, question__position=1)
    client.post(url, {"choice": "B", "reasoning": "Because they would."}, headers=HTMX)
    after = Answer.objects.get(pk=before.pk)
    assert (after.revisions, after.updated_at, after.time_ms) == (before.revisions, before.updated_at, 0)


def test_save_without_a_page_view_creates_one_answer_and_starts_the_clock() -> None:
    client = Client()
    study, participant = _entered(client)
    url = reverse("participant-question", args=[study.public_id, 3])
    for _ in range(2):  # a replayed request
        response = client.post(url, {"choice": "A", "elapsed_ms": "1500"}, headers=HTMX)
        assert response.status_code == 200
    answer = Answer.objects.get(participant=participant)
    assert answer.question.position == 3
    assert answer.letter == "A"
    assert answer.revisions == 1
    assert answer.time_ms == 3000
    participant.refresh_from_db()
    assert participant.started_at is not None


def test_htmx_save_out_of_range_and_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from annotation.views import participant as views

    client = Client()
    study, _participant = _entered(client)
    assert client.post(reverse("participant-question", args=[study.public_id, 9]), {}, headers=HTMX).status_code == 404
    monkeypatch.setattr(views, "SAVES_PER_MINUTE_PER_PARTICIPANT", 3)  # the refused save above counts too
    url = reverse("participant-question", args=[study.public_id, 1])
    statuses = [client.post(url, {"choice": "A"}, headers=HTMX).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_answer_save_applies_each_change_once() -> None:
    client = Client()
    _study, participant = _entered(client)
    participant = Participant.objects.select_related("study").get(pk=participant.pk)
    question = questions_for(participant=participant)[0]
    answer = answer_open(participant=participant, question=question)
    ids = {"participant_id": participant.pk, "study_public_id": participant.study.public_id}
    a_is_chosen = answer.order_shown == Order.CHOSEN_FIRST
    steps = [
        (AnswerChange(letter="A", reasoning=None, elapsed_ms=700), "A", "", False, 1, 700),
        (
            AnswerChange(letter=None, reasoning="Typed by hand.", pasted=True, elapsed_ms=300),
            "A",
            "Typed by hand.",
            True,
            2,
            1000,
        ),
        (AnswerChange(letter="A", reasoning="Typed by hand.", elapsed_ms=0), "A", "Typed by hand.", True, 2, 1000),
        (AnswerChange(letter="B", reasoning=None, elapsed_ms=50), "B", "Typed by hand.", True, 3, 1050),
    ]
    for change, letter, reasoning, pasted, revisions, time_ms in steps:
        before = Answer.objects.get(pk=answer.pk)
        answer_save(**ids, position=question.position, change=change)
        stored = Answer.objects.get(pk=answer.pk)
        assert (stored.letter, stored.reasoning, stored.pasted) == (letter, reasoning, pasted)
        assert (stored.revisions, stored.time_ms) == (revisions, time_ms)
        assert stored.choice == ("chosen" if (letter == "A") == a_is_chosen else "rejected")
        if stored.revisions == before.revisions:  # a replay leaves the time of the last change alone
            assert stored.updated_at == before.updated_at
        else:
            assert stored.updated_at
            assert before.updated_at is None or stored.updated_at > before.updated_at
    assert Answer.objects.filter(participant=participant).count() == 1


def test_answer_save_refuses_after_submit_or_release_and_for_unknown_positions() -> None:
    client = Client()
    _study, participant = _entered(client)
    participant = Participant.objects.select_related("study").get(pk=participant.pk)
    change = AnswerChange(letter="A", reasoning="Late.")
    ids = {"participant_id": participant.pk, "study_public_id": participant.study.public_id}
    with pytest.raises(AnswerError, match="no such question"):
        answer_save(**ids, position=99, change=change)
    # Released behind the caller's back (the caller's copy still says active): the UPDATE matches nothing.
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.RETURNED)
    with pytest.raises(AnswerError, match="released"):
        answer_save(**ids, position=1, change=change)
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.SUBMITTED)
    with pytest.raises(AnswerError, match="submitted"):
        answer_save(**ids, position=1, change=change)
    assert not Answer.objects.filter(participant=participant, reasoning="Late.").exists()


def test_one_save_runs_the_answer_update_at_most_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view calls ``answer_save`` once and it picks the path: the hot UPDATE alone for a shown question; for a
    question never shown, the row and the UPDATE once more; a refused save never repeats it."""
    from annotation.services import answers

    client = Client()
    study, participant = _entered(client)
    calls: list[int] = []

    def counted(**kwargs: object) -> object:
        calls.append(1)
        return answer_update(**kwargs)

    monkeypatch.setattr(answers, "answer_update", counted)

    def updates(position: int, data: dict[str, str]) -> int:
        calls.clear()
        client.post(reverse("participant-question", args=[study.public_id, position]), data, headers=HTMX)
        return len(calls)

    client.get(reverse("participant-question", args=[study.public_id, 1]))
    assert updates(1, {"choice": "A"}) == 1
    assert updates(2, {"choice": "A"}) == 2  # never shown: the row is created, then the UPDATE
    assert updates(2, {"choice": "B"}) == 1
    Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.SUBMITTED)
    assert updates(1, {"choice": "B"}) == 1  # refused: the reason is looked up, the UPDATE not run again


# Session (when it lives in the database), participant + study + persona + slot, question + pair + prompt + answer,
# the progress bar. The page's ORM queries are compiled nowhere.
PAGE_QUERIES = 4


def test_question_page_query_count_is_pinned(django_assert_max_num_queries: object) -> None:
    client = Client()
    study, _participant = _entered(client)
    url = reverse("participant-question", args=[study.public_id, 2])
    client.get(url)  # the first view creates the answer row and fixes its order
    with django_assert_max_num_queries(PAGE_QUERIES):  # type: ignore[operator]
        page = client.get(url)
    assert page.status_code == 200
    assert f"Question 2 of {study.questions_per_persona}" in page.content.decode()


def test_form_buttons_save_and_move_without_loading_the_page(django_assert_max_num_queries: object) -> None:
    """Without htmx (JavaScript off) Save and next / Previous / Save and review save through the same UPDATE."""
    client = Client()
    study, participant = _entered(client)
    url = lambda position: reverse("participant-question", args=[study.public_id, position])  # noqa: E731
    client.get(url(1))
    with django_assert_max_num_queries(SAVE_QUERIES):  # type: ignore[operator]
        response = client.post(url(1), {"choice": "A", "reasoning": "Plain form.", "go": "next"})
    assert response.status_code == 302
    assert response.url == url(2)
    assert Answer.objects.get(participant=participant, question__position=1).reasoning == "Plain form."
    assert client.post(url(2), {"choice": "B", "go": "previous"}).url == url(1)
    finish = reverse("participant-finish", args=[study.public_id])
    last = study.questions_per_persona
    assert client.post(url(last), {"choice": "B", "go": "next"}).url == finish  # the last one goes to the review
    assert client.post(url(last), {"choice": "B", "go": "finish"}).url == finish
    # A refused change shows the page again with the reason, and keeps what was stored.
    refused = client.post(url(1), {"choice": "C", "go": "next"})
    assert refused.status_code == 400
    assert "Choose answer A or answer B." in refused.content.decode()
    assert Answer.objects.get(participant=participant, question__position=1).letter == "A"
