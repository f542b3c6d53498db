"""Benchmark pages: the preference pairs that studies and judges answer — importing them, and finding them by
source."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from benchmarks.forms import PairsUploadForm
from benchmarks.models import PreferencePair
from benchmarks.pair_import import PairImportError, pairs_import
from benchmarks.pair_sources import pair_source_choices, pair_sources, pairs_select

PAGE_SIZE = 50


@permission_required("benchmarks.add_preferencepair", raise_exception=True)
@require_http_methods(["GET", "POST"])
def pairs_import_view(request: HttpRequest) -> HttpResponse:
    """Upload preference pairs (the questions studies draw from) as JSONL or CSV; all or nothing. The pairs form
    one new batch, and the pairs page opens on it."""
    form = PairsUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        file_format = "csv" if upload.name.lower().endswith(".csv") else "jsonl"
        try:
            result = pairs_import(data=upload.read(), file_format=file_format, file_name=upload.name)
        except PairImportError as exc:
            errors = exc.errors[:50]
        else:
            messages.success(
                request,
                f"Imported {result.created} new pair(s), updated {result.updated}, "
                f"{result.prompts_created} new prompt(s) as batch '{result.batch}'.",
            )
            return redirect(f"{reverse('pair-list')}?batch={result.batch.pk}")
    return render(
        request,
        "benchmarks/pairs_import.html",
        {"form": form, "errors": errors, "pair_count": PreferencePair.objects.count()},
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
