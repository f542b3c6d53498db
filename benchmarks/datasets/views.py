"""Dataset pages: the list and plan form, the dataset page (plan, estimate, stages, progress, win rates, export),
and the import of a released-columns file."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from benchmarks.datasets.estimate import dataset_estimate
from benchmarks.datasets.export import dataset_export_start, export_archive_path
from benchmarks.datasets.forms import DatasetForm, DatasetImportForm, DatasetJudgeForm, DatasetStudyForm
from benchmarks.datasets.import_job import DATASET_IMPORT_JOB, dataset_import_start
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import DatasetError, dataset_plan_start
from benchmarks.datasets.progress import dataset_failures, dataset_jobs, dataset_progress
from benchmarks.datasets.selection import dataset_judge_items
from benchmarks.datasets.stages import STAGE_JOBS, Stage, stage_start
from benchmarks.datasets.verification import dataset_losers, dataset_win_rates
from benchmarks.judging.services import judge_run_start
from benchmarks.pairs.models import PAIR_SPLIT_MEANING, PairSplit
from core.htmx import HtmxHttpRequest
from core.uploads import FileRefusedError
from core.views import upload_job_page
from personas.attributes import ATTRIBUTES


@permission_required("benchmarks.view_preferencedataset", raise_exception=True)
@require_http_methods(["GET", "POST"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    form = DatasetForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("benchmarks.add_preferencedataset"):
            return HttpResponse(status=403)
        if form.is_valid():
            dataset = form.save(commit=False)
            dataset.created_by = request.user
            dataset.save()
            messages.success(request, f"Dataset {dataset.name} saved; plan it to draw the assignment.")
            return redirect("dataset-detail", dataset_id=dataset.pk)
    datasets = PreferenceDataset.objects.annotate(n_pairs=Count("pairs")).select_related("generator")
    return render(request, "benchmarks/dataset_list.html", {"datasets": datasets, "form": form})


def _split_rows(dataset: PreferenceDataset) -> list[dict[str, object]]:
    planned = dict(dataset.items.values_list("split").annotate(n=Count("pk")))
    pairs = dict(dataset.pairs.values_list("split").annotate(n=Count("pk")))
    per_split = dataset.per_split()
    return [
        {
            "split": split,
            "meaning": PAIR_SPLIT_MEANING[split],
            "per_persona": per_split[split],
            "planned": planned.get(split, 0),
            "pairs": pairs.get(split, 0),
        }
        for split in PairSplit
    ]


def _export_info(dataset: PreferenceDataset) -> dict[str, object] | None:
    archive = export_archive_path(dataset)
    if not archive.exists():
        return None
    stat = archive.stat()
    return {"at": datetime.fromtimestamp(stat.st_mtime, tz=UTC), "mb": stat.st_size / 2**20}


def _progress_context(dataset: PreferenceDataset) -> dict[str, object]:
    jobs = list(dataset_jobs(dataset).order_by("-created_at"))
    return {
        "dataset": dataset,
        "progress": dataset_progress(dataset),
        "failures": dataset_failures(dataset),
        "jobs": jobs,
        "active": any(job.is_active for job in jobs),
        "spent": sum((job.cost_usd for job in jobs), start=0),
    }


@permission_required("benchmarks.view_preferencedataset", raise_exception=True)
@require_GET
def dataset_detail(request: HtmxHttpRequest, dataset_id: int) -> HttpResponse:
    """A dataset's page; for htmx, the progress block it polls while a stage runs."""
    dataset = get_object_or_404(
        PreferenceDataset.objects.select_related("generator", "verifier__endpoint"), pk=dataset_id
    )
    if request.htmx:
        return render(request, "benchmarks/dataset_detail.html#dataset-progress", _progress_context(dataset))
    attribute = request.GET.get("attribute", "sex")
    context = {
        **_progress_context(dataset),
        "splits": _split_rows(dataset),
        "estimate": dataset_estimate(dataset=dataset),
        "stages": [(stage, stage.label) for stage in Stage],
        "rates": dataset_win_rates(dataset=dataset, attribute=attribute),
        "attributes": ATTRIBUTES,
        "losers": dataset_losers(dataset=dataset),
        "study_form": DatasetStudyForm(initial={"name": f"Study on {dataset.name}"}),
        "judge_form": DatasetJudgeForm(),
        "personas": dataset.items.values("persona_id").distinct().count(),
        "export": _export_info(dataset),
    }
    return render(request, "benchmarks/dataset_detail.html", context)


@permission_required("benchmarks.change_preferencedataset", raise_exception=True)
@require_POST
def dataset_plan_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = get_object_or_404(PreferenceDataset, pk=dataset_id)
    job = dataset_plan_start(dataset=dataset, started_by=request.user)
    messages.success(request, f"Planning started (job #{job.pk}).")
    return redirect("dataset-detail", dataset_id=dataset.pk)


@permission_required("benchmarks.change_preferencedataset", raise_exception=True)
@require_POST
def dataset_stage_view(request: HttpRequest, dataset_id: int, stage: str) -> HttpResponse:
    dataset = get_object_or_404(PreferenceDataset.objects.select_related("generator"), pk=dataset_id)
    if stage not in STAGE_JOBS:
        return HttpResponse(f"Unknown stage {stage!r}.", status=404)
    try:
        job = stage_start(dataset=dataset, stage=stage, started_by=request.user)
    except DatasetError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{Stage(stage).label} started (job #{job.pk}).")
    return redirect("dataset-detail", dataset_id=dataset.pk)


@permission_required("benchmarks.run_judges", raise_exception=True)  # paid model calls: coordinators
@require_POST
def dataset_judge_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = get_object_or_404(PreferenceDataset, pk=dataset_id)
    form = DatasetJudgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a judge and a split.")
        return redirect("dataset-detail", dataset_id=dataset.pk)
    items = dataset_judge_items(dataset=dataset, split=form.cleaned_data["split"])
    if not items:
        messages.error(request, "That split has no usable pairs yet.")
        return redirect("dataset-detail", dataset_id=dataset.pk)
    judge = form.cleaned_data["judge"]
    job = judge_run_start(
        judge=judge, items=items, started_by=request.user, label=f"{dataset.name}:{form.cleaned_data['split']}"
    )
    messages.success(request, f"Judge {judge.name} started on {len(items)} pairs (job #{job.pk}).")
    return redirect("dataset-detail", dataset_id=dataset.pk)


@permission_required("benchmarks.view_preferencedataset", raise_exception=True)
@require_POST
def dataset_export_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Start the export job; the page links the zip once it is written."""
    dataset = get_object_or_404(PreferenceDataset, pk=dataset_id)
    job = dataset_export_start(dataset=dataset, started_by=request.user)
    messages.success(request, f"Export started (job #{job.pk}); the download link appears here when it is done.")
    return redirect("dataset-detail", dataset_id=dataset.pk)


@permission_required("benchmarks.view_preferencedataset", raise_exception=True)
@require_GET
def dataset_download(request: HttpRequest, dataset_id: int) -> FileResponse:
    dataset = get_object_or_404(PreferenceDataset, pk=dataset_id)
    archive = export_archive_path(dataset)
    if not archive.exists():
        raise Http404("This dataset has not been exported yet.")
    return FileResponse(archive.open("rb"), as_attachment=True, filename=archive.name)


@permission_required("benchmarks.add_preferencedataset", raise_exception=True)
@require_http_methods(["GET", "POST"])
def dataset_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a released-columns file; the import runs as a job whose progress, then dataset, this page shows."""
    return upload_job_page(
        request,
        form=DatasetImportForm(request.POST or None, request.FILES or None),
        start=dataset_import_start,
        refused=FileRefusedError,
        kinds=(DATASET_IMPORT_JOB,),
        template="benchmarks/dataset_import.html",
    )
