"""PERSONA Bench pages, mounted under ``benchmarks/bench/`` by ``benchmarks.urls``."""

from __future__ import annotations

from django.urls import path

from benchmarks.bench import views
from core.htmx import moved_to

urlpatterns = [
    path("", views.bench_run_list, name="bench-run-list"),
    path("new/", views.bench_run_new, name="bench-run-new"),
    path("compare/", views.bench_compare, name="bench-compare"),
    path("compare/figures/<slug:name>.<str:fmt>", views.bench_compare_figure, name="bench-compare-figure"),
    path("compare/tables/<slug:name>.<str:fmt>", views.bench_compare_table, name="bench-compare-table"),
    path("<int:run_id>/", views.bench_run_detail, name="bench-run-detail"),
    # The former address of the progress block (the page itself answers htmx now), kept for open tabs.
    path("<int:run_id>/status/", moved_to("bench-run-detail")),
    path("<int:run_id>/cancel/", views.bench_run_cancel, name="bench-run-cancel"),
    path("<int:run_id>/resume/", views.bench_run_resume, name="bench-run-resume"),
    path("<int:run_id>/items/", views.bench_run_items, name="bench-run-items"),
    path("<int:run_id>/answers.csv", views.bench_run_answers_csv, name="bench-run-answers-csv"),
    path("<int:run_id>/results.json", views.bench_run_json, name="bench-run-json"),
    path("<int:run_id>/tables/<slug:name>.<str:fmt>", views.bench_run_table, name="bench-run-table"),
    path("<int:run_id>/figures/<slug:name>.<str:fmt>", views.bench_run_figure, name="bench-run-figure"),
]
