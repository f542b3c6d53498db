"""The study page's Prolific panel: draft (with Prolific's cost), publish after a confirmation, sync, bulk approve
after a confirmation, reject one participant after a confirmation that shows the message they will read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotation.models import Participant, Study
from annotation.prolific.common import ProlificServiceError
from annotation.prolific.models import REJECTION_CATEGORIES, REJECTION_MESSAGE_MIN_CHARS, ProlificWave
from annotation.prolific.review import approvable, rejectable, rejection_check, submission_reject, submissions_approve
from annotation.prolific.sync import study_sync
from annotation.prolific.waves import DEVICES, wave_body, wave_draft_create, wave_publish, wave_start
from annotation.views.coordinator import prolific_url


def _int(value: str, default: int) -> int:
    return int(value) if value.strip().isdigit() else default


@permission_required("annotation.change_study", raise_exception=True)
@require_POST
def prolific_wave_create(request: HttpRequest, study_id: int) -> HttpResponse:
    """Record the next wave and create its draft on Prolific (nothing is published or paid)."""
    study = get_object_or_404(Study, pk=study_id)
    devices = [d for d in request.POST.getlist("devices") if d in DEVICES]
    try:
        wave = study.prolific_waves.exclude(state=ProlificWave.State.PUBLISHED).order_by("number").first()
        if wave is None:
            wave = wave_start(
                study=study,
                reward_cents=_int(request.POST.get("reward_cents", ""), 0),
                estimated_minutes=_int(request.POST.get("estimated_minutes", ""), study.estimated_minutes),
            )
        wave = wave_draft_create(wave=wave, entry_url=prolific_url(request, study), devices=devices)
    except ProlificServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Wave {wave.number} is a draft on Prolific ({wave.prolific_study_id}).")
    return redirect("study-detail", study_id=study.pk)


@permission_required("annotation.change_study", raise_exception=True)
@require_http_methods(["GET", "POST"])
def prolific_wave_publish(request: HttpRequest, study_id: int, wave_id: int) -> HttpResponse:
    """GET: what publishing costs and sends. POST: publish (Prolific locks the funds)."""
    wave = get_object_or_404(ProlificWave.objects.select_related("study"), pk=wave_id, study_id=study_id)
    if request.method == "POST":
        try:
            wave = wave_publish(wave=wave)
        except ProlificServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Wave {wave.number} is published: Prolific says {wave.prolific_status}.")
        return redirect("study-detail", study_id=study_id)
    body = wave_body(wave=wave, entry_url=prolific_url(request, wave.study), devices=[])
    return render(
        request,
        "annotation/coordinator/prolific_publish.html",
        {"study": wave.study, "wave": wave, "body": body},
    )


@permission_required("annotation.change_study", raise_exception=True)
@require_POST
def prolific_sync_view(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    result = study_sync(study=study)
    if result.errors:
        messages.error(request, "Prolific could not be read: " + "; ".join(result.errors))
    else:
        raised = f"; places raised to {', '.join(map(str, result.raised_to.values()))}" if result.raised_to else ""
        messages.success(request, f"Synced {result.waves} wave(s): {result.changed} change(s){raised}.")
    return redirect("study-detail", study_id=study.pk)


@permission_required("annotation.change_participant", raise_exception=True)
@require_http_methods(["GET", "POST"])
def prolific_approve(request: HttpRequest, study_id: int) -> HttpResponse:
    """GET: who would be approved (AWAITING REVIEW on Prolific and passed our checks). POST: approve them."""
    study = get_object_or_404(Study, pk=study_id)
    if request.method == "POST":
        try:
            sent = submissions_approve(study=study)
        except ProlificServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Approved {sent} submission(s) on Prolific.")
        return redirect("study-detail", study_id=study.pk)
    return render(
        request, "annotation/coordinator/prolific_approve.html", {"study": study, "rows": approvable(study=study)}
    )


@permission_required("annotation.change_participant", raise_exception=True)
@require_http_methods(["GET", "POST"])
def prolific_reject(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    """Three steps: the form, a confirmation showing the exact message the worker will read, then the rejection."""
    participant = get_object_or_404(
        Participant.objects.select_related("study"), pk=participant_id, study_id=study_id, is_preview=False
    )
    submission = rejectable(participant=participant)
    message = request.POST.get("message", "").strip()
    category = request.POST.get("category", "")
    error = ""
    confirming = False
    if request.method == "POST":
        try:
            rejection_check(message=message, category=category)
        except ProlificServiceError as exc:
            error = str(exc)
        else:
            if request.POST.get("confirm") == "yes":
                try:
                    submission_reject(participant=participant, message=message, category=category)
                except ProlificServiceError as exc:
                    error = str(exc)
                else:
                    messages.success(request, f"Participant {participant.pk}'s submission was rejected on Prolific.")
                    return redirect("study-detail", study_id=study_id)
            else:
                confirming = True
    return render(
        request,
        "annotation/coordinator/prolific_reject.html",
        {
            "study": participant.study,
            "participant": participant,
            "submission": submission,
            "categories": REJECTION_CATEGORIES,
            "category": category,
            "category_label": dict(REJECTION_CATEGORIES).get(category, ""),
            "message": message,
            "min_chars": REJECTION_MESSAGE_MIN_CHARS,
            "error": error,
            "confirming": confirming,
        },
        status=400 if error else 200,
    )
