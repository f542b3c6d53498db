"""Coordinator review: participants with flags, one participant's answers, approve/exclude, releases."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.forms import ReturnsUploadForm, ReviewForm
from annotation.models import Participant, Study
from annotation.prolific.submissions import webhook_event_apply
from annotation.services.returns import ReturnsError, returns_import, webhook_signature_valid
from annotation.services.review import (
    answer_flags,
    participant_quality,
    participant_review_set,
    participants_quality_for,
    placed_participants,
)
from annotation.services.slots import participant_release, participant_session_reset

MAX_WEBHOOK_BYTES = 64 * 1024
PARTICIPANTS_PER_PAGE = 100
TURNED_AWAY_SHOWN = 200  # the latest arrivals turned away; the heading gives the count


@permission_required("annotation.view_participant", raise_exception=True)
@require_GET
def participant_list(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's raters a page at a time, each with their flags (counted in the database for that page)."""
    study = get_object_or_404(Study, pk=study_id)
    page = Paginator(placed_participants(study=study), PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    turned_away = Participant.objects.filter(study=study).turned_away()
    return render(
        request,
        "annotation/coordinator/participant_list.html",
        {
            "study": study,
            "page": page,
            "reports": participants_quality_for(participants=list(page.object_list), study=study),
            "turned_away": turned_away.order_by("-entered_at", "-id")[:TURNED_AWAY_SHOWN],
            "turned_away_count": turned_away.count(),
            "upload_form": ReturnsUploadForm(),
        },
    )


@permission_required("annotation.view_participant", raise_exception=True)
@require_http_methods(["GET", "POST"])
def participant_detail(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    participant = get_object_or_404(
        Participant.objects.select_related("study", "study_persona__persona"), pk=participant_id, study_id=study_id
    )
    if request.method == "POST":
        if not request.user.has_perm("annotation.change_participant"):
            return HttpResponse("You may not review participants.", status=403)
        form = ReviewForm(request.POST)
        if form.is_valid():
            participant_review_set(
                participant=participant, decision=form.cleaned_data["decision"], note=form.cleaned_data["note"]
            )
            messages.success(request, f"Participant {participant.pk}: {participant.get_review_display().lower()}.")
            return redirect("study-participant", study_id=study_id, participant_id=participant.pk)
    answers = list(participant.answers.select_related("question__pair__prompt").order_by("question__position"))
    report = participant_quality(participant=participant, answers=answers)
    rows = [(a, answer_flags(answer=a, study=participant.study)) for a in answers]
    return render(
        request,
        "annotation/coordinator/participant_detail.html",
        {"study": participant.study, "participant": participant, "report": report, "rows": rows},
    )


@permission_required("annotation.change_participant", raise_exception=True)
@require_POST
def participant_release_view(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    participant = get_object_or_404(Participant, pk=participant_id, study_id=study_id, is_preview=False)
    status = request.POST.get("status", "")
    if status not in (Participant.Status.RETURNED, Participant.Status.TIMED_OUT):
        messages.error(request, "Choose returned or timed out.")
    elif participant_release(participant=participant, status=status):
        messages.success(request, f"Participant {participant.pk} marked {status.replace('_', ' ')}; place released.")
    else:
        messages.error(request, "Only a participant who is still answering can be released.")
    return redirect("study-participants", study_id=study_id)


@permission_required("annotation.change_participant", raise_exception=True)
@require_POST
def participant_session_reset_view(request: HttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    participant = get_object_or_404(Participant, pk=participant_id, study_id=study_id, is_preview=False)
    participant_session_reset(participant=participant)
    messages.success(
        request, f"Participant {participant.pk}'s Prolific session was reset; their next entry binds a new one."
    )
    return redirect("study-participant", study_id=study_id, participant_id=participant_id)


@permission_required("annotation.change_participant", raise_exception=True)
@require_POST
def returns_upload(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    form = ReturnsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose Prolific's submissions export (a CSV file).")
        return redirect("study-participants", study_id=study.pk)
    try:
        result = returns_import(study=study, data=form.cleaned_data["file"].read())
    except ReturnsError as exc:
        messages.error(request, f"Could not read the export: {exc}.")
    else:
        messages.success(
            request,
            f"Released {len(result.released)} place(s); {result.already} already released or finished; "
            f"{result.unknown} not in this study.",
        )
    return redirect("study-participants", study_id=study.pk)


@login_not_required
@csrf_exempt
@require_POST
def prolific_webhook(request: HttpRequest) -> HttpResponse:
    """Prolific's webhook (HMAC-signed; refused while PROLIFIC_WEBHOOK_SECRET is unset). The same code path as the
    minute's sync; a delivery whose X-Event-ID was applied already is acknowledged and changes nothing."""
    body = request.body[: MAX_WEBHOOK_BYTES + 1]
    if len(body) > MAX_WEBHOOK_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    if not webhook_signature_valid(
        secret=settings.PROLIFIC_WEBHOOK_SECRET or "",
        timestamp=request.headers.get("X-Prolific-Request-Timestamp", ""),
        body=body,
        signature=request.headers.get("X-Prolific-Request-Signature", ""),
    ):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return JsonResponse({"error": "not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "expected an object"}, status=400)
    duplicate, result = webhook_event_apply(event_id=request.headers.get("X-Event-ID", ""), payload=payload)
    return JsonResponse(
        {"duplicate": duplicate, "changed": result.changed, "released": result.released, "unknown": result.unknown}
    )
