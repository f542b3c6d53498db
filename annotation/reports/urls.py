"""Study report pages and downloads, mounted under ``studies/<int:study_id>/report/`` by ``annotation.urls``."""

from __future__ import annotations

from django.urls import path

from annotation.reports import views
from core.htmx import moved_to

urlpatterns = [
    path("", views.study_report, name="study-report"),
    # The freshness banner is the report page asked by htmx; the old address redirects there.
    path("status/", moved_to("study-report")),
    path("judge/", views.study_report_judge, name="study-report-judge"),
    path("report.json", views.study_report_json, name="study-report-json"),
    path("tables/<slug:name>.<str:fmt>", views.study_report_table, name="study-report-table"),
    path("figures/<slug:name>.<str:fmt>", views.study_report_figure, name="study-report-figure"),
]
