"""Bonuses: amounts per participant, Prolific's bulk-bonus CSV, and paying through Prolific's API.

Paying is two recorded steps. ``bonus_payment_setup`` asks Prolific to set up a bulk bonus (nothing is paid yet; it
may be repeated safely). ``bonus_payment_pay`` moves the record from set-up to paying with a conditional UPDATE
*before* calling Prolific, so the pay call is made at most once: a failure or an unclear outcome is recorded and
left for the coordinator to check on Prolific; nothing retries it.
"""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from annotation.models import BonusPayment, Participant, Study
from core.csv_export import CsvWriter

MAX_BONUS = Decimal("100.00")
API_TIMEOUT_SECONDS = 30.0


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


def _headers() -> dict[str, str]:
    token = settings.PROLIFIC_API_TOKEN
    if not token:
        raise BonusError("PROLIFIC_API_TOKEN is not set; download the CSV and upload it on Prolific instead.")
    return {"Authorization": f"Token {token}"}


def bonus_payment_setup(*, study: Study, created_by: object = None) -> BonusPayment:
    """Step 1: ask Prolific to set up the bulk bonus (no money moves). Recorded whatever the outcome."""
    recipients = list(bonus_recipients(study=study))
    if not recipients:
        raise BonusError("No submitted participant has a bonus above zero.")
    headers = _headers()
    prolific_study = Counter(p.prolific_study_id for p in recipients if p.prolific_study_id).most_common(1)
    if not prolific_study:
        raise BonusError("The participants arrived without a Prolific STUDY_ID; use the CSV instead.")
    payment = BonusPayment.objects.create(
        study=study,
        csv=bonus_csv(study=study),
        total=sum((p.bonus for p in recipients), Decimal(0)),
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    try:
        response = httpx.post(
            f"{settings.PROLIFIC_API_URL.rstrip('/')}/api/v1/submissions/bonus-payments/",
            json={"study_id": prolific_study[0][0], "csv_bonuses": payment.csv},
            headers=headers,
            timeout=API_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        prolific_id = str(response.json()["id"])
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        BonusPayment.objects.filter(pk=payment.pk).update(
            status=BonusPayment.Status.FAILED, error=f"Set-up failed: {exc}"[:2000]
        )
    else:
        BonusPayment.objects.filter(pk=payment.pk).update(status=BonusPayment.Status.SET_UP, prolific_id=prolific_id)
    payment.refresh_from_db()
    return payment


def bonus_payment_pay(*, payment: BonusPayment) -> BonusPayment:
    """Step 2: pay a set-up bulk bonus. Claimed first, so a double click or replay never pays twice."""
    headers = _headers()
    claimed = BonusPayment.objects.filter(pk=payment.pk, status=BonusPayment.Status.SET_UP).update(
        status=BonusPayment.Status.PAYING, pay_requested_at=timezone.now()
    )
    if not claimed:
        payment.refresh_from_db()
        raise BonusError(f"This bonus is {payment.get_status_display().lower()}; it cannot be paid from here again.")
    url = f"{settings.PROLIFIC_API_URL.rstrip('/')}/api/v1/bulk-bonus-payments/{payment.prolific_id}/pay/"
    try:
        response = httpx.post(url, headers=headers, timeout=API_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        # The request may or may not have reached Prolific: record it and leave it to a human.
        BonusPayment.objects.filter(pk=payment.pk).update(
            status=BonusPayment.Status.UNKNOWN, error=f"No clear answer from Prolific: {exc}"[:2000]
        )
    else:
        if response.is_success:
            BonusPayment.objects.filter(pk=payment.pk).update(status=BonusPayment.Status.PAID, paid_at=timezone.now())
        else:
            BonusPayment.objects.filter(pk=payment.pk).update(
                status=BonusPayment.Status.FAILED,
                error=f"Prolific answered {response.status_code}: {response.text}"[:2000],
            )
    payment.refresh_from_db()
    return payment
