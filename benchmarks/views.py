"""Benchmark pages: the preference pairs that studies and judges answer — importing them, and finding them by
source."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from benchmarks.forms import PairsUploadForm
from benchmarks.pairs.importing import PAIRS_IMPORT_JOB, pairs_import_start
from benchmarks.pairs.models import PreferencePair
from benchmarks.pairs.sources import pair_source_choices, pair_sources, pairs_select
from core.uploads import FileRefusedError
from core.views import upload_job_page

PAGE_SIZE = 50


@permission_required("benchmarks.add_preferencepair", raise_exception=True)
@require_http_methods(["GET", "POST"])
def pairs_import_view(request: HttpRequest) -> HttpResponse:
    """Upload preference pairs (the questions studies draw from) as JSONL or CSV; the import runs as a job and its
    pairs form one new batch."""
    return upload_job_page(
        request,
        form=PairsUploadForm(request.POST or None, request.FILES or None),
        start=pairs_import_start,
        refused=FileRefusedError,
        kinds=(PAIRS_IMPORT_JOB,),
        template="benchmarks/pairs_import.html",
        context={"pair_count": PreferencePair.objects.count()},
    )


@permission_required("benchmarks.view_preferencepair", raise_exception=True)
@require_GET
def pair_list(request: HttpRequest) -> HttpResponse:
    """Every pair, filtered by source (import batch, prompt topic, shared or persona-specific, split) and text."""
    choices = pair_source_choices(request.GET)
    pairs = pairs_select(choices=choices).select_related("prompt", "persona", "batch").order_by("id")
    text = request.GET.get("q", "").strip()
    if text:
        pairs = pairs.filter(prompt__text__icontains=text)
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sources = [
        (source, [o for o in source.options() if o.count], choices.get(source.key, "")) for source in pair_sources()
    ]
    context = {"page": page, "query": query.urlencode(), "sources": sources, "text": text}
    template = "benchmarks/pair_list.html#results" if request.htmx else "benchmarks/pair_list.html"
    return render(request, template, context)
