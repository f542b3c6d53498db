"""A whole Prolific round against the fake server, through the same services the study page calls: draft, cost,
publish, 30 simulated workers (some return, time out, fail the attention check), reclaim and raised places, bulk
approve, a rejection, bonuses, a second wave. Run once cleanly and once under every fault: nothing is paid twice,
no place is lost, nobody is approved twice."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import BonusPayment, Participant, Slot, SlotStatus, Study
from annotation.prolific.common import ProlificServiceError
from annotation.prolific.models import ProlificSubmission, ProlificWave
from annotation.prolific.review import approvable, submission_reject, submissions_approve
from annotation.prolific.sync import prolific_sync_all
from annotation.prolific.waves import wave_draft_create, wave_publish, wave_start
from annotation.selectors import questions_for
from annotation.services.answers import AnswerChange, answer_open, answer_save, participant_submit
from annotation.services.bonuses import (
    BonusError,
    bonus_payment_pay,
    bonus_payment_resolve,
    bonus_payment_setup,
    bonus_set,
)
from annotation.services.slots import EntryOutcome, participant_enter
from annotation.services.study import slot_add
from benchmarks.judging.models import Order
from tests.annotation.factories import study_make
from tests.annotation.prolific.fake import FakeProlific

pytestmark = pytest.mark.django_db

ENTRY = (
    "https://lab.example/s/{id}/?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
)
REASON = (
    "You answered the attention check wrongly: it told you exactly which reply to choose and what to write, and "
    "your answer did neither. We cannot use this submission."
)


def deliver(fake: FakeProlific, http: Client, rng: random.Random, *, chaos: bool) -> None:
    """Send the fake's pending webhook events, signed; under chaos shuffled and some twice."""
    events, fake.events[:] = list(fake.events), []
    if chaos:
        events += rng.sample(events, k=len(events) // 3)
        rng.shuffle(events)
    for event in events:
        response = http.post(
            reverse("prolific-webhook"), event.body, content_type="application/json", headers=fake.signed(event)
        )
        assert response.status_code == 200, response.content


def work(study: Study, fake: FakeProlific, wave: ProlificWave, pid: str, *, fate: str) -> str | None:
    """One worker: takes a place on Prolific, opens our link, then finishes, fails the check, returns or times out."""
    submission = fake.worker_start(wave.prolific_study_id, pid)
    if submission is None:
        return None
    entry = participant_enter(study=study, pid=pid, study_param=wave.prolific_study_id, session_param=submission)
    if entry.outcome != EntryOutcome.ASSIGNED:
        fake.worker_finish(submission, study.no_place_code)
        return submission
    participant = entry.participant
    if fate in ("RETURNED", "TIMED-OUT"):
        fake.worker_leave(submission, fate)
        return submission
    for question in questions_for(participant=participant):
        answer = answer_open(participant=participant, question=question)
        right = answer.order_shown == Order.CHOSEN_FIRST
        letter = "A" if right != (question.is_attention and fate == "fail") else "B"
        answer_save(
            participant_id=participant.pk,
            study_public_id=study.public_id,
            position=question.position,
            change=AnswerChange(letter=letter, reasoning="Because of who this person is.", elapsed_ms=9000),
        )
    participant_submit(participant=participant)
    participant.refresh_from_db()
    fake.worker_finish(submission, participant.completion_code)
    return submission


def sync(fake: FakeProlific, http: Client, rng: random.Random, *, chaos: bool) -> None:
    """Both paths, as in production: webhook deliveries and the minute's poll (under chaos with 429s and 500s)."""
    deliver(fake, http, rng, chaos=chaos)
    if chaos:
        fake.fail("GET", r"/submissions/$", "429")
        fake.fail("GET", r"^/api/v1/studies/[^/]+/$", "500")
    result = prolific_sync_all()
    assert result.errors == []


@pytest.mark.parametrize("chaos", [False, True], ids=["clean", "every-fault"])
def test_a_whole_round(prolific: FakeProlific, chaos: bool) -> None:
    rng = random.Random(5)
    http = Client()
    study = study_make(personas=5, k=5, n=2, checks=1, estimated_minutes=10)  # 25 places
    entry_url = ENTRY.replace("{id}", str(study.public_id))

    # Draft and cost (under chaos the create's answer is lost after Prolific made it: looked up, not made twice).
    wave = wave_start(study=study, reward_cents=250, estimated_minutes=10)
    assert wave.places_asked == 25
    if chaos:
        prolific.fail("POST", r"^/api/v1/studies/$", "timeout")
        with pytest.raises(ProlificServiceError, match="looks it up"):
            wave_draft_create(wave=wave, entry_url=entry_url, devices=["desktop", "tablet"])
        wave.refresh_from_db()
        assert wave.state == ProlificWave.State.CHECK
    wave = wave_draft_create(wave=wave, entry_url=entry_url, devices=["desktop", "tablet"])
    assert len(prolific.studies) == 1
    assert wave.state == ProlificWave.State.DRAFT
    assert wave.cost_cents == round(250 * 25 * 4 / 3)
    remote = prolific.studies[wave.prolific_study_id]
    assert remote["status"] == "UNPUBLISHED"
    assert [c["code"] for c in remote["completion_codes"]] == [
        study.completion_code,
        study.failed_check_code,
        study.no_place_code,
    ]
    assert remote["reward"] == 250
    assert remote["total_available_places"] == 25

    # Publish (a repeated click changes nothing).
    if chaos:
        prolific.fail("GET", r"^/api/v1/studies/[^/]+/$", "500")
    wave = wave_publish(wave=wave)
    assert wave.state == ProlificWave.State.PUBLISHED
    assert remote["status"] == "ACTIVE"
    with pytest.raises(ProlificServiceError):
        wave_publish(wave=wave)

    # 30 workers come and go: 3 return, 2 time out, 2 fail the attention check; the rest finish.
    fates = ["RETURNED"] * 3 + ["TIMED-OUT"] * 2 + ["fail"] * 2 + ["finish"] * 23
    rng.shuffle(fates)
    pids = [f"W{n:02d}" for n in range(30)]
    for n, (pid, fate) in enumerate(zip(pids, fates, strict=True)):
        work(study, prolific, wave, pid, fate=fate)
        if n % 6 == 5:
            sync(prolific, http, rng, chaos=chaos)
    sync(prolific, http, rng, chaos=chaos)

    # Returned and timed-out workers gave their place back, and it was taken by a later worker: all 30 took part.
    left = Participant.objects.filter(study=study, status__in=[Participant.Status.RETURNED, "timed_out"]).count()
    assert left == 5
    failed = list(Participant.objects.filter(study=study, failed_attention_check=True))
    assert len(failed) == 2
    assert Slot.objects.filter(study=study).exclude(status=SlotStatus.COMPLETE).count() == 0

    # Review: bulk approve everyone who passed (never the two who failed the check); under chaos the answer to the
    # approve call is lost after Prolific acted, and the next sync shows it.
    if chaos:
        prolific.fail("POST", r"bulk-approve", "timeout")
        with pytest.raises(ProlificServiceError, match="next sync"):
            submissions_approve(study=study)
        sync(prolific, http, rng, chaos=chaos)
    else:
        assert submissions_approve(study=study) == 23
    assert submissions_approve(study=study) == 0
    assert approvable(study=study) == []

    # Reject one who failed the check (confirmation shows this message); exclude the other and open a new place.
    with pytest.raises(ProlificServiceError, match="at least 100"):
        submission_reject(participant=failed[0], message="Too short.", category="FAILED_CHECK")
    row = submission_reject(participant=failed[0], message=REASON, category="FAILED_CHECK")
    assert row.status == "REJECTED"
    with pytest.raises(ProlificServiceError):
        submission_reject(participant=failed[0], message=REASON, category="FAILED_CHECK")
    failed[1].review = Participant.Review.EXCLUDED
    failed[1].save(update_fields=["review"])
    slot_add(study_persona=failed[1].study_persona)
    sync(prolific, http, rng, chaos=chaos)
    wave.refresh_from_db()
    # Two places opened here (the rejection's, and the exclusion's), so Prolific was asked for more: only up.
    assert Slot.objects.filter(study=study, status=SlotStatus.FREE).count() == 2
    assert wave.places_prolific == remote["total_available_places"]
    assert remote["total_available_places"] >= 25 + 1
    for n in range(30, 34):
        work(study, prolific, wave, f"W{n:02d}", fate="finish")
    sync(prolific, http, rng, chaos=chaos)
    assert Slot.objects.filter(study=study).exclude(status=SlotStatus.COMPLETE).count() == 0

    # Bonuses: set up, pay; under chaos the pay's answer is lost, and nothing pays again until resolved.
    winners = list(
        Participant.objects.filter(study=study, status="submitted", failed_attention_check=False).order_by("id")[:4]
    )
    for participant in winners:
        bonus_set(participant=participant, amount=Decimal("0.50"))
    payment = bonus_payment_setup(study=study)
    assert payment.status == BonusPayment.Status.SET_UP
    if chaos:
        prolific.fail("POST", r"/pay/$", "timeout")
    payment = bonus_payment_pay(payment=payment)
    if chaos:
        assert payment.status == BonusPayment.Status.UNKNOWN
        with pytest.raises(BonusError, match="unknown"):
            bonus_payment_setup(study=study)
        payment = bonus_payment_resolve(payment=payment, paid=True)
    assert payment.status == BonusPayment.Status.PAID
    with pytest.raises(BonusError):
        bonus_payment_pay(payment=payment)

    # A second wave: two more raters for two personas; it excludes everyone from the first wave.
    for entry in study.study_personas.all()[:2]:
        slot_add(study_persona=entry)
    second = wave_start(study=study, reward_cents=250, estimated_minutes=10)
    assert second.places_asked == 2
    second = wave_draft_create(wave=second, entry_url=entry_url, devices=["desktop"])
    group = prolific.groups[second.exclusion_group_id]
    assert set(pids) <= group["members"]
    assert prolific.studies[second.prolific_study_id]["filters"] == [
        {"filter_id": "participant_group_blocklist", "selected_values": [second.exclusion_group_id]}
    ]
    second = wave_publish(wave=second)
    assert prolific.worker_start(second.prolific_study_id, "W00") is None  # a first-wave worker is kept out
    work(study, prolific, second, "V01", fate="finish")
    work(study, prolific, second, "V02", fate="finish")
    sync(prolific, http, rng, chaos=chaos)
    submissions_approve(study=study)
    sync(prolific, http, rng, chaos=chaos)

    # The invariants, under every fault.
    assert max(prolific.approvals.values()) == 1
    assert set(prolific.pays.values()) == {1}
    assert dict(prolific.paid) == {p.prolific_pid: 50 for p in winners}
    assert Slot.objects.filter(study=study).exclude(status=SlotStatus.COMPLETE).count() == 0
    assert study.prolific_waves.count() == 2
    assert (
        ProlificSubmission.objects.filter(status="AWAITING REVIEW")
        .exclude(participant_id__in=[p.prolific_pid for p in failed])
        .count()
        == 0
    )
    assert json.dumps(prolific.violations) == "[]"
