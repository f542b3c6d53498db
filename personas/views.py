from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.csv_export import CsvWriter
from core.views import upload_job_page
from personas.attributes import ATTRIBUTE_BY_KEY
from personas.formats import personas_write_jsonl
from personas.forms import EnrichForm, GenerateForm, PersonaFilterForm, PersonaImportForm
from personas.models import CensusDataset, Persona
from personas.plots import comparison_svg
from personas.selectors import comparison_csv_rows, dataset_comparison, personas_filter
from personas.services import IMPORT_JOB, persona_enrichment_start, persona_generation_start, persona_import_start

PAGE_SIZE = 50


def _filtered(request: HttpRequest) -> tuple[PersonaFilterForm, object]:
    form = PersonaFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, personas_filter(filters=filters)


@permission_required("personas.view_persona", raise_exception=True)
@require_GET
def persona_list(request: HttpRequest) -> HttpResponse:
    form, personas = _filtered(request)
    page = Paginator(personas, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "personas/persona_list.html#results" if request.htmx else "personas/persona_list.html"
    return render(request, template, context)


@permission_required("personas.view_persona", raise_exception=True)
@require_GET
def persona_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    persona = get_object_or_404(Persona.objects.select_related("dataset"), public_id=public_id)
    return render(request, "personas/persona_detail.html", {"persona": persona})


@permission_required("personas.view_persona", raise_exception=True)
@require_GET
def persona_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, personas = _filtered(request)
    rows = (p.export_row() for p in personas.iterator(chunk_size=500))
    response = StreamingHttpResponse(personas_write_jsonl(rows), content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="personas.jsonl"'
    return response


@permission_required("personas.add_persona", raise_exception=True)
@require_http_methods(["GET", "POST"])
def persona_import(request: HttpRequest) -> HttpResponse:
    return upload_job_page(
        request,
        form=PersonaImportForm(request.POST or None, request.FILES or None),
        start=persona_import_start,
        kinds=(IMPORT_JOB,),
        template="personas/persona_import.html",
    )


@permission_required("personas.add_persona", raise_exception=True)
@require_http_methods(["GET", "POST"])
def persona_generate(request: HttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST or None, initial={"dataset": CensusDataset.objects.first()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = persona_generation_start(
            dataset=data["dataset"],
            n=data["n"],
            seed=data["seed"],
            llm_check_endpoint_id=data["llm_check_endpoint"],
            enrichment_endpoint_id=data["enrichment_endpoint"],
            started_by=request.user,
        )
        messages.success(request, f"Started {job.label} #{job.pk}; its progress shows below.")
        return redirect("job-detail", job.pk)
    context = {"form": form, "enrich_form": EnrichForm()}
    return render(request, "personas/persona_generate.html", context)


@permission_required("personas.add_persona", raise_exception=True)
@require_POST
def persona_enrich(request: HttpRequest) -> HttpResponse:
    form = EnrichForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick an LLM endpoint for the enrichment.")
        return redirect("persona-generate")
    job = persona_enrichment_start(
        endpoint_id=form.cleaned_data["endpoint"], dataset=form.cleaned_data["dataset"], started_by=request.user
    )
    messages.success(request, f"Started {job.label} #{job.pk}; its progress shows below.")
    return redirect("job-detail", job.pk)


def _dataset(request: HttpRequest) -> CensusDataset | None:
    dataset_id = request.GET.get("dataset", "")
    if dataset_id.isdigit():
        return get_object_or_404(CensusDataset, pk=dataset_id)
    return CensusDataset.objects.first()


@permission_required("personas.view_censusdataset", raise_exception=True)
@require_GET
def census_comparison(request: HttpRequest) -> HttpResponse:
    dataset = _dataset(request)
    include_pruned = request.GET.get("include_pruned") == "1"
    comparisons = dataset_comparison(dataset=dataset, include_pruned=include_pruned) if dataset else []
    context = {
        "dataset": dataset,
        "datasets": CensusDataset.objects.all(),
        "include_pruned": include_pruned,
        "comparisons": [(ATTRIBUTE_BY_KEY[c.key], c) for c in comparisons],
        "persona_count": comparisons[0].n if comparisons else 0,
    }
    return render(request, "personas/census_comparison.html", context)


@permission_required("personas.view_censusdataset", raise_exception=True)
@require_GET
def census_comparison_csv(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = get_object_or_404(CensusDataset, pk=dataset_id)
    comparisons = dataset_comparison(dataset=dataset, include_pruned=request.GET.get("include_pruned") == "1")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="census-comparison-{dataset.pk}.csv"'
    CsvWriter(response).writerows(comparison_csv_rows(comparisons))
    return response


@permission_required("personas.view_censusdataset", raise_exception=True)
@require_GET
def census_plot(request: HttpRequest, dataset_id: int, key: str) -> HttpResponse:
    dataset = get_object_or_404(CensusDataset, pk=dataset_id)
    if key not in dataset.marginals or key not in ATTRIBUTE_BY_KEY:
        raise Http404("No such census attribute in this dataset.")
    include_pruned = request.GET.get("include_pruned") == "1"
    (comparison,) = dataset_comparison(dataset=dataset, include_pruned=include_pruned, keys=[key])
    svg = comparison_svg(comparison, title=ATTRIBUTE_BY_KEY[key].label)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=60"
    return response
