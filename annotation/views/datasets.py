"""A study straight from a preference dataset: one split's pairs, for the personas that have enough of them.

The view lives in annotation (annotation may import benchmarks, never the reverse); the selection rule is
``benchmarks.datasets.selection``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from annotation.services.study import StudyError, StudySettings, study_create
from benchmarks.datasets.forms import DatasetStudyForm
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.selection import dataset_pair_pool, dataset_study_personas


@permission_required("annotation.add_study", raise_exception=True)
@require_POST
def study_from_dataset(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = get_object_or_404(PreferenceDataset, pk=dataset_id)
    form = DatasetStudyForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
        messages.error(request, f"The study was not created: {errors}")
        return redirect("dataset-detail", dataset_id=dataset.pk)
    data = form.cleaned_data
    personas = dataset_study_personas(
        dataset=dataset,
        split=data["split"],
        min_pairs=data["pairs_per_persona"],
        sample_size=data["personas"],
        seed=data["seed"],
    )
    config = StudySettings(
        name=data["name"],
        pairs_per_persona=data["pairs_per_persona"],
        raters_per_persona=data["raters_per_persona"],
        majority_threshold=data["majority_threshold"],
        seed=data["seed"],
    )
    try:
        if not personas:
            raise StudyError(f"No persona has {data['pairs_per_persona']} usable pairs in {data['split']}.")
        study = study_create(
            config=config,
            personas=personas,
            created_by=request.user,
            pairs=dataset_pair_pool(dataset=dataset, split=data["split"]),
        )
    except StudyError as exc:
        messages.error(request, f"The study was not created: {exc}")
        return redirect("dataset-detail", dataset_id=dataset.pk)
    messages.success(
        request, f"Study created from {dataset.name} ({data['split']}): {len(personas)} personas. Launch it here."
    )
    return redirect("study-detail", study_id=study.pk)
