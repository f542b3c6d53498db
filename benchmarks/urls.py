"""Benchmark pages, mounted under ``benchmarks/``."""

from __future__ import annotations

from django.urls import include, path

from benchmarks import views
from benchmarks.datasets import views as datasets
from benchmarks.prompts import views as prompts
from core.htmx import moved_to

urlpatterns = [
    path("pairs/import/", views.pairs_import_view, name="pairs-import"),
    path("pairs/", views.pair_list, name="pair-list"),
    path("prompts/", prompts.prompt_list, name="prompt-list"),
    path("prompts/import/", prompts.prompt_import, name="prompt-import"),
    path("prompts/filter/", prompts.prompt_form_filter, name="prompt-form-filter"),
    path("prompts/classify/", prompts.prompt_classify, name="prompt-classify"),
    path("prompts/topics/", prompts.prompt_topics, name="prompt-topics"),
    path("prompts/<int:prompt_id>/overrule/", prompts.prompt_overrule_view, name="prompt-overrule"),
    path("datasets/", datasets.dataset_list, name="dataset-list"),
    path("datasets/import/", datasets.dataset_import_view, name="dataset-import"),
    path("datasets/<int:dataset_id>/", datasets.dataset_detail, name="dataset-detail"),
    # The former address of the progress block (the page itself answers htmx now), kept for open tabs.
    path("datasets/<int:dataset_id>/progress/", moved_to("dataset-detail")),
    path("datasets/<int:dataset_id>/plan/", datasets.dataset_plan_view, name="dataset-plan"),
    path("datasets/<int:dataset_id>/stage/<str:stage>/", datasets.dataset_stage_view, name="dataset-stage"),
    path("datasets/<int:dataset_id>/judge/", datasets.dataset_judge_view, name="dataset-judge"),
    path("datasets/<int:dataset_id>/export/", datasets.dataset_export_view, name="dataset-export"),
    path("datasets/<int:dataset_id>/export.zip", datasets.dataset_download, name="dataset-download"),
    path("bench/", include("benchmarks.bench.urls")),
]
