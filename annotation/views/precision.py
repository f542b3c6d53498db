"""Recruit by precision on the study page: the design panel (predicted interval width, cost, time to fill of each
alternative), the running interval beside the dashboard, and adding raters or personas in one step."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotation.models import Study
from annotation.precision.services import (
    DEFAULT_TARGET_WIDTH,
    PrecisionError,
    agreement_default,
    agreement_from_pilot,
    personas_add,
    pilot_choices,
    precision_plan,
    precision_running,
    raters_add,
)
from annotation.services.study import StudyError


def _target_width(request: HttpRequest) -> float:
    try:
        value = float(request.GET.get("target", DEFAULT_TARGET_WIDTH))
    except ValueError:
        return DEFAULT_TARGET_WIDTH
    return value if 0 < value < 2 else DEFAULT_TARGET_WIDTH


@permission_required("annotation.view_study", raise_exception=True)
@require_GET
def precision_plan_view(request: HttpRequest, study_id: int) -> HttpResponse:
    """The design panel: each alternative design with its predicted interval width, cost and time to fill."""
    study = get_object_or_404(Study, pk=study_id)
    pilots = pilot_choices(study=study)
    pilot_id = request.GET.get("pilot", "")
    pilot = next((p for p in pilots if str(p.pk) == pilot_id), None)
    error = ""
    expected = agreement_default()
    if pilot is not None:
        try:
            expected = agreement_from_pilot(pilot=pilot)
        except PrecisionError as exc:
            error = str(exc)
    return render(
        request,
        "annotation/coordinator/precision.html#plan",
        {
            "study": study,
            "plan": precision_plan(study=study, expected=expected),
            "pilots": pilots,
            "pilot": pilot,
            "error": error,
        },
    )


@permission_required("annotation.view_study", raise_exception=True)
@require_GET
def precision_running_view(request: HttpRequest, study_id: int) -> HttpResponse:
    """The headline interval so far and the width still to go; it polls itself while the study is live."""
    study = get_object_or_404(Study, pk=study_id)
    running = precision_running(study=study, target_width=_target_width(request), user=request.user)
    return render(request, "annotation/coordinator/precision.html#running", {"study": study, "running": running})


@permission_required("annotation.add_slot", raise_exception=True)
@require_POST
def precision_add_view(request: HttpRequest, study_id: int) -> HttpResponse:
    """Add raters (a place per persona each) or personas (k places each) in one step; places are raised on the
    recruiter when one is connected."""
    study = get_object_or_404(Study, pk=study_id)
    what, count = request.POST.get("what", ""), request.POST.get("count", "")
    try:
        if not count.isdigit():
            raise PrecisionError("Give the number to add as a whole number.")
        if what == "raters":
            added = raters_add(study=study, per_persona=int(count))
        elif what == "personas":
            added = personas_add(study=study, count=int(count))
        else:
            raise PrecisionError("Choose raters or personas.")
    except (PrecisionError, StudyError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, added.message)
    return redirect("study-detail", study_id=study.pk)
