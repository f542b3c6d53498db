"""Benchmark pages: importing the preference pairs that studies and judges answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from benchmarks.forms import PairsUploadForm
from benchmarks.models import PreferencePair
from benchmarks.pair_import import PAIRS_IMPORT_JOB, PairImportError, pairs_import_start
from core.views import job_from_query


@permission_required("benchmarks.add_preferencepair", raise_exception=True)
@require_http_methods(["GET", "POST"])
def pairs_import_view(request: HttpRequest) -> HttpResponse:
    """Upload preference pairs (the questions studies draw from) as JSONL or CSV; the import runs as a job."""
    form = PairsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = pairs_import_start(upload=upload, started_by=request.user)
        except PairImportError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(
                request, f"{job.label} #{job.pk} from {upload.name} is {job.get_status_display().lower()}."
            )
            return redirect(f"{reverse('pairs-import')}?job={job.pk}")
    job = job_from_query(request, kinds=(PAIRS_IMPORT_JOB,))
    return render(
        request,
        "benchmarks/pairs_import.html",
        {"form": form, "job": job, "pair_count": PreferencePair.objects.count()},
    )
