from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import Answer, Participant, Slot, SlotStatus
from annotation.services.slots import participant_release
from tests.annotation.factories import study_make

pytestmark = pytest.mark.django_db


def enter(client: Client, study: object, pid: str = "5f1a2b3c4d5e6f7a8b9c0d1e") -> object:
    url = reverse("participant-entry", args=[study.public_id])
    return client.get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": f"se-{pid}"})


def answer_all(client: Client, study: object, participant: Participant) -> None:
    questions = participant.study_persona.questions.order_by("position")
    for q in questions:
        client.get(reverse("participant-question", args=[study.public_id, q.position]))
        answer = Answer.objects.get(participant=participant, question=q)
        # Attention checks: pick the correct reply, whichever letter it was shown as.
        letter = ("A" if answer.order_shown == "AB" else "B") if q.is_attention else "A"
        response = client.post(
            reverse("participant-question", args=[study.public_id, q.position]),
            {"choice": letter, "reasoning": "Because they would like it.", "elapsed_ms": "4000"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200


def test_entry_claims_a_slot_and_drops_the_pid_from_urls() -> None:
    study = study_make()
    client = Client()
    first_key = client.session.session_key
    response = enter(client, study)
    assert response.status_code == 302
    assert response.url == reverse("participant-instructions", args=[study.public_id])
    assert "PROLIFIC_PID" not in response.url
    assert client.session.session_key != first_key
    participant = Participant.objects.get()
    assert participant.prolific_session_id.startswith("se-")
    assert Slot.objects.get(holder=participant).status == SlotStatus.RESERVED
    page = client.get(response.url)
    assert page.status_code == 200
    assert study.instructions.split()[0] in page.content.decode()


def test_same_pid_gets_the_same_slot_even_in_a_new_browser() -> None:
    study = study_make()
    enter(Client(), study, "pidA")
    enter(Client(), study, "pidA")
    assert Participant.objects.count() == 1
    assert Slot.objects.filter(status=SlotStatus.RESERVED).count() == 1


@pytest.mark.parametrize("pid", ["", "bad pid", "x" * 65, "<script>"])
def test_missing_or_malformed_pid_gets_a_clear_page(pid: str) -> None:
    study = study_make()
    response = enter(Client(), study, pid)
    assert response.status_code == 400
    assert "Prolific ID" in response.content.decode()
    assert not Participant.objects.exists()


def test_full_study_shows_no_place_left_code() -> None:
    study = study_make(personas=1, k=2)
    enter(Client(), study, "p1")
    enter(Client(), study, "p2")
    response = enter(Client(), study, "p3")
    assert response.status_code == 200
    assert study.no_place_code in response.content.decode()


def test_unknown_study_and_no_session_are_refused() -> None:
    study = study_make()
    assert Client().get("/s/00000000-0000-0000-0000-000000000000/?PROLIFIC_PID=abc").status_code == 404
    assert Client().get(reverse("participant-question", args=[study.public_id, 1])).status_code == 404
    other = study_make()
    client = Client()
    enter(client, study)
    # A session bound to one study reaches nothing in another.
    assert client.get(reverse("participant-question", args=[other.public_id, 1])).status_code == 404


def test_full_flow_saves_every_change_and_redirects_to_prolific() -> None:
    study = study_make(personas=1, k=1, n=2, checks=1)
    client = Client()
    enter(client, study)
    participant = Participant.objects.get()
    assert client.get(reverse("participant-persona", args=[study.public_id])).status_code == 200
    answer_all(client, study, participant)
    # A revision counts, and a refresh shows the saved text.
    url = reverse("participant-question", args=[study.public_id, 1])
    client.post(url, {"reasoning": "Changed <b>my</b> mind."}, headers={"HX-Request": "true"})
    page = client.get(url).content.decode()
    assert "Changed &lt;b&gt;my&lt;/b&gt; mind." in page
    assert Answer.objects.get(participant=participant, question__position=1).revisions == 2
    response = client.post(reverse("participant-submit", args=[study.public_id]))
    assert response.status_code == 302
    assert response.url == f"https://app.prolific.com/submissions/complete?cc={study.completion_code}"
    participant.refresh_from_db()
    assert participant.status == Participant.Status.SUBMITTED
    assert Slot.objects.get(holder=participant).status == SlotStatus.COMPLETE
    # Read-only afterwards, and a replayed submit changes nothing.
    blocked = client.post(url, {"reasoning": "late edit"}, headers={"HX-Request": "true"})
    assert "can no longer be changed" in blocked.content.decode()
    assert client.post(reverse("participant-submit", args=[study.public_id])).url == response.url
    assert Answer.objects.filter(participant=participant).count() == 3
    assert client.get(reverse("participant-done", args=[study.public_id])).status_code == 200
    # Re-opening the Prolific link lands on the read-only page.
    assert enter(Client(), study).url == reverse("participant-done", args=[study.public_id])


def test_failed_attention_check_sends_the_failed_code() -> None:
    study = study_make(personas=1, k=1, n=1, checks=1)
    client = Client()
    enter(client, study)
    participant = Participant.objects.get()
    for q in participant.study_persona.questions.all():
        client.get(reverse("participant-question", args=[study.public_id, q.position]))
        answer = Answer.objects.get(participant=participant, question=q)
        wrong = "B" if answer.order_shown == "AB" else "A"
        client.post(
            reverse("participant-question", args=[study.public_id, q.position]),
            {"choice": wrong, "reasoning": "whatever you say"},
        )
    response = client.post(reverse("participant-submit", args=[study.public_id]))
    assert response.url.endswith(f"cc={study.failed_check_code}")


def test_submit_refuses_incomplete_answers() -> None:
    study = study_make(personas=1, k=1)
    client = Client()
    enter(client, study)
    response = client.post(reverse("participant-submit", args=[study.public_id]))
    assert response.status_code == 400
    assert Participant.objects.get().status == Participant.Status.ACTIVE


def test_reasoning_over_the_cap_and_pasting_are_handled() -> None:
    study = study_make(personas=1, k=1, reasoning_max_chars=50, block_paste=True)
    client = Client()
    enter(client, study)
    url = reverse("participant-question", args=[study.public_id, 1])
    client.get(url)
    too_long = client.post(url, {"reasoning": "x" * 51}, headers={"HX-Request": "true"})
    assert "under 50 characters" in too_long.content.decode()
    pasted = client.post(url, {"reasoning": "pasted", "pasted": "1"}, headers={"HX-Request": "true"})
    assert "pasting is not allowed" in pasted.content.decode()
    assert Answer.objects.get().reasoning == ""


def test_paste_is_flagged_and_time_accumulates() -> None:
    study = study_make(personas=1, k=1)
    client = Client()
    enter(client, study)
    url = reverse("participant-question", args=[study.public_id, 1])
    client.get(url)
    client.post(url, {"reasoning": "pasted text", "pasted": "1", "elapsed_ms": "3000"}, headers={"HX-Request": "true"})
    client.post(url, {"elapsed_ms": "2000", "beacon": "1"})
    answer = Answer.objects.get()
    assert answer.pasted
    assert answer.time_ms == 5000


def test_order_is_stored_and_maps_letters_to_chosen() -> None:
    study = study_make(personas=1, k=1)
    client = Client()
    enter(client, study)
    url = reverse("participant-question", args=[study.public_id, 1])
    page = client.get(url).content.decode()
    answer = Answer.objects.get()
    pair = answer.question.pair
    first_shown = pair.chosen if answer.order_shown == "AB" else pair.rejected
    assert page.index(first_shown) < page.index(pair.chosen if first_shown == pair.rejected else pair.rejected)
    client.post(url, {"choice": "A"}, headers={"HX-Request": "true"})
    answer.refresh_from_db()
    assert answer.choice == ("chosen" if answer.order_shown == "AB" else "rejected")
    assert answer.letter == "A"


def test_released_participant_sees_a_polite_page() -> None:
    study = study_make(personas=1, k=1)
    client = Client()
    enter(client, study)
    participant = Participant.objects.get()
    participant_release(participant=participant, status=Participant.Status.RETURNED)
    response = client.get(reverse("participant-question", args=[study.public_id, 1]))
    assert response.status_code == 410
    assert "released" in response.content.decode()
    assert enter(Client(), study).status_code == 410
    # The place went back to the pool.
    assert enter(Client(), study, "newcomer").status_code == 302


def test_paused_study_turns_new_arrivals_away_but_not_holders() -> None:
    from annotation.services.study import study_transition

    study = study_make(personas=1, k=2)
    holder = Client()
    enter(holder, study, "holder")
    study_transition(study=study, action="pause")
    assert "not open" in enter(Client(), study, "late").content.decode()
    assert enter(holder, study, "holder").status_code == 302


def test_entry_is_rate_limited_per_ip_and_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    from annotation.views import participant as views

    study = study_make()
    monkeypatch.setattr(views, "ENTRY_PER_MINUTE_PER_PID", 2)
    statuses = [enter(Client(), study, "same").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    monkeypatch.setattr(views, "ENTRY_PER_MINUTE_PER_IP", 3)
    assert enter(Client(), study, "other").status_code == 429


def test_a_pid_is_bound_to_its_first_prolific_session(coordinator: object) -> None:
    study = study_make()
    url = reverse("participant-entry", args=[study.public_id])
    pid = "5f1a2b3c4d5e6f7a8b9c0d1e"
    first = Client()
    assert first.get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": "sess-1"}).status_code == 302
    participant = Participant.objects.get()
    assert participant.prolific_session_id == "sess-1"
    # Someone else who knows the PID and the study link, from another (or no) submission: a clear refusal.
    for session in ("sess-2", ""):
        intruder = Client()
        refused = intruder.get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": session})
        assert refused.status_code == 403
        assert "belongs to another Prolific submission" in refused.content.decode()
        assert intruder.get(reverse("participant-instructions", args=[study.public_id])).status_code == 404
    # The owner comes back with the same submission.
    assert Client().get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": "sess-1"}).status_code == 302
    # A coordinator resets the binding; the next entry binds again.
    staff = Client()
    staff.force_login(coordinator)
    reset = reverse("study-participant-session-reset", args=[study.pk, participant.pk])
    assert staff.post(reset).status_code == 302
    assert Client().get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": "sess-2"}).status_code == 302
    participant.refresh_from_db()
    assert participant.prolific_session_id == "sess-2"
    assert Participant.objects.count() == 1
