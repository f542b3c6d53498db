"""Benchmark pages: importing the preference pairs that studies and judges answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from benchmarks.forms import PairsUploadForm
from benchmarks.models import PreferencePair
from benchmarks.pair_import import PairImportError, pairs_import


@permission_required("benchmarks.add_preferencepair", raise_exception=True)
@require_http_methods(["GET", "POST"])
def pairs_import_view(request: HttpRequest) -> HttpResponse:
    """Upload preference pairs (the questions studies draw from) as JSONL or CSV; all or nothing."""
    form = PairsUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        file_format = "csv" if upload.name.lower().endswith(".csv") else "jsonl"
        try:
            result = pairs_import(data=upload.read(), file_format=file_format)
        except PairImportError as exc:
            errors = exc.errors[:50]
        else:
            messages.success(
                request,
                f"Imported {result.created} new pair(s), updated {result.updated}, "
                f"{result.prompts_created} new prompt(s).",
            )
            return redirect("pairs-import")
    return render(
        request,
        "benchmarks/pairs_import.html",
        {"form": form, "errors": errors, "pair_count": PreferencePair.objects.count()},
    )
