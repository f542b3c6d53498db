"""Coordinator console: study list, create form, study page with live dashboard, lifecycle actions, preview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotation.models import Study, StudyPersona
from annotation.prolific.panel import study_prolific_panel
from annotation.prolific.waves import DEVICES
from annotation.services.review import study_dashboard, study_slot_totals
from annotation.services.sessions import session_participant_bind
from annotation.services.slots import preview_participant_start
from annotation.services.study import StudyError, slot_add, study_transition
from core.htmx import HtmxHttpRequest

PERSONAS_PER_PAGE = 50  # the dashboard and the places table, a page of personas at a time
PROLIFIC_PARAMS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


def prolific_url(request: HttpRequest, study: Study) -> str:
    """The study URL to paste into Prolific; Prolific fills in the {{%…%}} placeholders per participant."""
    return request.build_absolute_uri(reverse("participant-entry", args=[study.public_id])) + "?" + PROLIFIC_PARAMS


@permission_required("annotation.view_study", raise_exception=True)
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    studies = Study.objects.select_related("created_by")[:200]
    return render(request, "annotation/coordinator/study_list.html", {"studies": studies})


@permission_required("annotation.view_study", raise_exception=True)
@require_GET
def study_detail(request: HtmxHttpRequest, study_id: int) -> HttpResponse:
    """A study's page, its personas a page at a time; for htmx, the dashboard table alone (that page), which polls
    itself every few seconds while the study is live."""
    study = get_object_or_404(Study, pk=study_id)
    personas = study.study_personas.select_related("persona").order_by("position")
    page = Paginator(personas, PERSONAS_PER_PAGE).get_page(request.GET.get("page"))
    dashboard = {
        "study": study,
        "page": page,
        "rows": study_dashboard(study=study, entries=list(page.object_list)),
        "totals": study_slot_totals(study=study),
    }
    if request.htmx:
        return render(request, "annotation/coordinator/study_detail.html#dashboard", dashboard)
    context = {
        **dashboard,
        "prolific_url": prolific_url(request, study),
        "study_personas": page.object_list,
        "prolific": study_prolific_panel(study=study),
        "devices": DEVICES,
    }
    return render(request, "annotation/coordinator/study_detail.html", context)


@permission_required("annotation.change_study", raise_exception=True)
@require_POST
def study_action(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    action = request.POST.get("action", "")
    try:
        study = study_transition(study=study, action=action)
    except StudyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The study is now {study.get_status_display().lower()}.")
    return redirect("study-detail", study_id=study.pk)


@permission_required("annotation.add_slot", raise_exception=True)
@require_POST
def study_slot_add(request: HttpRequest, study_id: int, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(StudyPersona, pk=entry_id, study_id=study_id)
    slot = slot_add(study_persona=entry)
    messages.success(request, f"Added place {slot.index + 1} for persona {entry.persona_id}.")
    return redirect("study-detail", study_id=study_id)


@permission_required("annotation.change_study", raise_exception=True)  # it writes a preview participant
@require_POST
def study_preview(request: HttpRequest, study_id: int) -> HttpResponse:
    """Walk through the participant flow as a preview participant: no slot is used, answers are discarded."""
    study = get_object_or_404(Study, pk=study_id)
    entry_id = request.POST.get("entry", "")
    entry = get_object_or_404(StudyPersona, pk=int(entry_id) if entry_id.isdigit() else 0, study=study)
    participant = preview_participant_start(study=study, user=request.user, study_persona=entry)
    session_participant_bind(session=request.session, study=study, participant=participant)
    return redirect("participant-instructions", study_id=study.public_id)
