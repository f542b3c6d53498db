"""Building a study: the create and draft-edit form, and its live previews (who and what the choice selects)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from annotation.forms import PAPER_PRESET, StudyForm, study_form_initial
from annotation.models import Study, StudyStatus
from annotation.services.study import StudyError, study_create, study_update
from personas.models import Persona

PREVIEW_PERSONAS = 12
PREVIEW_PAIRS = 8
SEARCH_RESULTS = 15


@permission_required("annotation.add_study", raise_exception=True)
@require_http_methods(["GET", "POST"])
def study_create_view(request: HttpRequest) -> HttpResponse:
    initial = dict(PAPER_PRESET) if request.GET.get("preset") == "paper" else {}
    form = StudyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            study = study_create(**form.study_arguments(), created_by=request.user)
        except StudyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Study “{study.name}” created as a draft. Preview it, edit it, then launch.")
            return redirect("study-detail", study_id=study.pk)
    return render(request, "annotation/coordinator/study_form.html", {"form": form, "study": None})


@permission_required("annotation.change_study", raise_exception=True)
@require_http_methods(["GET", "POST"])
def study_edit_view(request: HttpRequest, study_id: int) -> HttpResponse:
    """Edit a draft: settings, personas and pairs; its questions and places are drawn afresh. Launched: refused."""
    study = get_object_or_404(Study, pk=study_id)
    if study.status != StudyStatus.DRAFT:
        messages.error(request, "Only a draft can be edited; this study has been launched.")
        return redirect("study-detail", study_id=study.pk)
    form = StudyForm(request.POST or None, initial=study_form_initial(study))
    if request.method == "POST" and form.is_valid():
        try:
            study = study_update(study=study, **form.study_arguments())
        except StudyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Draft “{study.name}” updated.")
            return redirect("study-detail", study_id=study.pk)
    return render(request, "annotation/coordinator/study_form.html", {"form": form, "study": study})


@permission_required("annotation.add_study", raise_exception=True)
@require_GET
def study_selection_preview(request: HttpRequest) -> HttpResponse:
    """What the form's current choice selects: how many personas (and a few of them), how many pairs (and a few)."""
    form = StudyForm(request.GET)
    form.is_valid()  # the preview shows what it can; the form's own errors show on submit
    data = form.cleaned_data
    context: dict[str, object] = {"form_errors": [], "personas": [], "pairs": []}
    selection_fields = {"persona_ids", "sample_size", "seed"} | {n for n in form.fields if n.startswith("persona_")}
    context["form_errors"] = [
        f"{form.fields[name].label}: {' '.join(errors)}"
        for name, errors in form.errors.items()
        if name in selection_fields
    ]
    personas = form.personas()
    context["personas"] = list(personas[:PREVIEW_PERSONAS])
    context["persona_count"] = personas.count()
    pairs = form.pairs()
    context["pair_count"] = pairs.count()
    context["shared_count"] = pairs.filter(persona__isnull=True).count()
    context["pairs"] = list(pairs.select_related("prompt").order_by("id")[:PREVIEW_PAIRS])
    context["needed"] = data.get("pairs_per_persona")
    return render(request, "annotation/coordinator/study_form.html#selection-preview", context)


@permission_required("annotation.add_study", raise_exception=True)
@require_GET
def persona_search(request: HttpRequest) -> HttpResponse:
    """Personas to add to an explicit list: number or any attribute value contains the text; pruned ones never."""
    text = request.GET.get("persona_search", "").strip()
    results = Persona.objects.usable().order_by("id")
    if text.lstrip("#").isdigit():
        results = results.filter(pk=int(text.lstrip("#")))
    elif text:
        results = results.with_any_attribute(text)
    return render(
        request,
        "annotation/coordinator/study_form.html#persona-search",
        {"results": list(results[:SEARCH_RESULTS]), "searched": bool(text)},
    )
