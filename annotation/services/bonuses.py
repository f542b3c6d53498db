"""Bonuses: amounts per participant, Prolific's bulk-bonus CSV, and paying through Prolific's API.

Paying is two recorded steps. ``bonus_payment_setup`` asks Prolific to set up a bulk bonus (nothing is paid yet; it
may be repeated safely). ``bonus_payment_pay`` moves the record from set-up to paying with a conditional UPDATE
*before* calling Prolific, so the pay call is made at most once: a failure or an unclear outcome is recorded and
left for the coordinator to check on Prolific; nothing retries it. While a payment's outcome is unknown, no other
bonus of the study can be set up or paid until the coordinator resolves it (``bonus_payment_resolve``).
Participants already in a set-up or paid bulk bonus are left out of the next one; one bulk bonus covers one
Prolific study (a second wave's participants get their own).
"""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from annotation.models import BonusPayment, Participant, Study
from annotation.prolific import client
from annotation.prolific.client import ProlificError
from core.csv_export import CsvWriter

MAX_BONUS = Decimal("100.00")
# Payments whose outcome is open: while one exists, nothing else of the study is set up or paid.
UNRESOLVED = (BonusPayment.Status.PAYING, BonusPayment.Status.UNKNOWN)


class BonusError(Exception):
    """The bonus request cannot be carried out; the message is fit to show the coordinator."""


def bonus_amount_parse(value: str) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise BonusError(f"{value!r} is not an amount.") from None
    if amount < 0 or amount > MAX_BONUS:
        raise BonusError(f"Bonuses must be between 0 and {MAX_BONUS}.")
    return amount


def bonus_set(*, participant: Participant, amount: Decimal | None) -> None:
    """Set (or clear, with None) a submitted participant's bonus."""
    if amount is not None and (amount < 0 or amount > MAX_BONUS):
        raise BonusError(f"Bonuses must be between 0 and {MAX_BONUS}.")
    if participant.status != Participant.Status.SUBMITTED or participant.is_preview:
        raise BonusError("Only submitted participants can receive a bonus.")
    Participant.objects.filter(pk=participant.pk).update(bonus=amount)


def bonus_recipients(*, study: Study) -> QuerySet[Participant]:
    return Participant.objects.filter(
        study=study, status=Participant.Status.SUBMITTED, is_preview=False, bonus__gt=0
    ).order_by("id")


def bonus_csv(*, study: Study) -> str:
    """Prolific's bulk-bonus format: one ``participant_id,amount`` line each, no header."""
    buffer = io.StringIO()
    CsvWriter(buffer, lineterminator="\n").writerows(
        (p.prolific_pid, f"{p.bonus:.2f}") for p in bonus_recipients(study=study)
    )
    return buffer.getvalue()


def _covered_pids(*, study: Study) -> set[str]:
    """PIDs already in a bulk bonus that was set up, is being paid, or was paid (a failed set-up covers nobody)."""
    pids: set[str] = set()
    for text in study.bonus_payments.exclude(status=BonusPayment.Status.FAILED).values_list("csv", flat=True):
        pids.update(line.split(",", 1)[0] for line in text.splitlines() if line.strip())
    return pids


def _check_connected_and_resolved(*, study: Study) -> None:
    if not settings.PROLIFIC_API_TOKEN:
        raise BonusError("PROLIFIC_API_TOKEN is not set; download the CSV and upload it on Prolific instead.")
    open_payment = study.bonus_payments.filter(status__in=UNRESOLVED).first()
    if open_payment is not None:
        raise BonusError(
            f"Bonus payment {open_payment.pk}'s outcome is unknown: check it on Prolific and record what you find "
            "before setting up or paying another."
        )


def bonus_payment_setup(*, study: Study, created_by: object = None) -> BonusPayment:
    """Step 1: ask Prolific to set up a bulk bonus (no money moves) for the participants of one Prolific study who
    are in no earlier bulk bonus. Recorded whatever the outcome; never retried by itself."""
    _check_connected_and_resolved(study=study)
    covered = _covered_pids(study=study)
    recipients = [p for p in bonus_recipients(study=study) if p.prolific_pid not in covered]
    if not recipients:
        raise BonusError("No submitted participant has a bonus above zero that is not set up already.")
    prolific_study = Counter(p.prolific_study_id for p in recipients if p.prolific_study_id).most_common(1)
    if not prolific_study:
        raise BonusError("The participants arrived without a Prolific STUDY_ID; use the CSV instead.")
    prolific_study_id = prolific_study[0][0]
    recipients = [p for p in recipients if p.prolific_study_id == prolific_study_id]
    payment = BonusPayment.objects.create(
        study=study,
        csv="".join(f"{p.prolific_pid},{p.bonus:.2f}\n" for p in recipients),
        total=sum((p.bonus for p in recipients if p.bonus is not None), Decimal(0)),
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    try:
        answer = client.bonus_create(study_id=prolific_study_id, csv_bonuses=payment.csv)
        prolific_id = str(answer["id"])
    except (ProlificError, KeyError, TypeError) as exc:
        BonusPayment.objects.filter(pk=payment.pk).update(
            status=BonusPayment.Status.FAILED, error=f"Set-up failed: {exc}"[:2000]
        )
    else:
        BonusPayment.objects.filter(pk=payment.pk).update(status=BonusPayment.Status.SET_UP, prolific_id=prolific_id)
    payment.refresh_from_db()
    return payment


def bonus_payment_pay(*, payment: BonusPayment) -> BonusPayment:
    """Step 2: pay a set-up bulk bonus. Claimed first, so a double click or replay never pays twice; a timeout
    leaves it "check on Prolific", which blocks every further pay until resolved."""
    _check_connected_and_resolved(study=payment.study)
    claimed = BonusPayment.objects.filter(pk=payment.pk, status=BonusPayment.Status.SET_UP).update(
        status=BonusPayment.Status.PAYING, pay_requested_at=timezone.now()
    )
    if not claimed:
        payment.refresh_from_db()
        raise BonusError(f"This bonus is {payment.get_status_display().lower()}; it cannot be paid from here again.")
    try:
        client.bonus_pay(bulk_id=payment.prolific_id)
    except ProlificError as exc:
        if exc.uncertain or exc.status is None or exc.status >= 500:
            # The request may have reached Prolific: record it and leave it to a human.
            BonusPayment.objects.filter(pk=payment.pk).update(
                status=BonusPayment.Status.UNKNOWN,
                error=f"No clear answer from Prolific: {exc} Check the bonus on Prolific."[:2000],
            )
        else:
            BonusPayment.objects.filter(pk=payment.pk).update(
                status=BonusPayment.Status.FAILED, error=f"Prolific refused: {exc}"[:2000]
            )
    else:
        BonusPayment.objects.filter(pk=payment.pk).update(status=BonusPayment.Status.PAID, paid_at=timezone.now())
    payment.refresh_from_db()
    return payment


def bonus_payment_resolve(*, payment: BonusPayment, paid: bool) -> BonusPayment:
    """The coordinator checked an unknown outcome on Prolific: it was paid (→ paid) or not (→ failed; its
    participants may then be set up again). Only an unknown payment can be resolved."""
    fields: dict[str, object] = (
        {"status": BonusPayment.Status.PAID, "paid_at": timezone.now()}
        if paid
        else {"status": BonusPayment.Status.FAILED, "error": "Not paid (checked on Prolific)."}
    )
    if not BonusPayment.objects.filter(pk=payment.pk, status=BonusPayment.Status.UNKNOWN).update(**fields):
        payment.refresh_from_db()
        raise BonusError(f"This bonus is {payment.get_status_display().lower()}; there is nothing to resolve.")
    payment.refresh_from_db()
    return payment
