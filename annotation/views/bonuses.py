"""Bonus amounts, the bulk-bonus CSV, and the two-step payment through Prolific's API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.models import BonusPayment, Participant, Study
from annotation.services.bonuses import (
    BonusError,
    bonus_amount_parse,
    bonus_csv,
    bonus_payment_pay,
    bonus_payment_resolve,
    bonus_payment_setup,
    bonus_set,
)
from annotation.services.review import participants_quality


@permission_required("annotation.pay_bonus", raise_exception=True)
@require_http_methods(["GET", "POST"])
def bonuses(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    reports = [r for r in participants_quality(study=study) if r.participant.status == Participant.Status.SUBMITTED]
    if request.method == "POST":
        try:
            with transaction.atomic():
                for report in reports:
                    field = f"bonus-{report.participant.pk}"
                    if field in request.POST:
                        bonus_set(participant=report.participant, amount=bonus_amount_parse(request.POST[field]))
        except BonusError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Bonus amounts saved.")
            return redirect("study-bonuses", study_id=study.pk)
    return render(
        request,
        "annotation/coordinator/bonuses.html",
        {
            "study": study,
            "reports": reports,
            "payments": study.bonus_payments.all(),
            "api_enabled": bool(settings.PROLIFIC_API_TOKEN),
        },
    )


@permission_required("annotation.pay_bonus", raise_exception=True)
@require_GET
def bonuses_csv(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    response = HttpResponse(bonus_csv(study=study), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study-{study.pk}-bonuses.csv"'
    return response


@permission_required("annotation.pay_bonus", raise_exception=True)
@require_POST
def bonus_payment_setup_view(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    try:
        payment = bonus_payment_setup(study=study, created_by=request.user)
    except BonusError as exc:
        messages.error(request, str(exc))
    else:
        level = messages.SUCCESS if payment.status == BonusPayment.Status.SET_UP else messages.ERROR
        messages.add_message(request, level, f"Bonus payment {payment.pk}: {payment.get_status_display().lower()}.")
    return redirect("study-bonuses", study_id=study.pk)


@permission_required("annotation.pay_bonus", raise_exception=True)
@require_POST
def bonus_payment_pay_view(request: HttpRequest, study_id: int, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(BonusPayment, pk=payment_id, study_id=study_id)
    try:
        payment = bonus_payment_pay(payment=payment)
    except BonusError as exc:
        messages.error(request, str(exc))
    else:
        level = messages.SUCCESS if payment.status == BonusPayment.Status.PAID else messages.ERROR
        messages.add_message(request, level, f"Bonus payment {payment.pk}: {payment.get_status_display().lower()}.")
    return redirect("study-bonuses", study_id=study_id)


@permission_required("annotation.pay_bonus", raise_exception=True)
@require_POST
def bonus_payment_resolve_view(request: HttpRequest, study_id: int, payment_id: int) -> HttpResponse:
    """Record what the coordinator found on Prolific for a payment whose outcome was unknown."""
    payment = get_object_or_404(BonusPayment, pk=payment_id, study_id=study_id)
    try:
        payment = bonus_payment_resolve(payment=payment, paid=request.POST.get("paid") == "yes")
    except BonusError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Bonus payment {payment.pk}: {payment.get_status_display().lower()}.")
    return redirect("study-bonuses", study_id=study_id)
