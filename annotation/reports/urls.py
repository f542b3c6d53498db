"""Study report pages and downloads, mounted under ``studies/<int:study_id>/report/`` by ``annotation.urls``."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from annotation.reports import views

urlpatterns = [
    path("", views.study_report, name="study-report"),
    # The freshness banner is the report page asked by htmx; the old address redirects there.
    path("status/", RedirectView.as_view(pattern_name="study-report", permanent=True, query_string=True)),
    path("judge/", views.study_report_judge, name="study-report-judge"),
    path("report.json", views.study_report_json, name="study-report-json"),
    path("tables/<slug:name>.<str:fmt>", views.study_report_table, name="study-report-table"),
    path("figures/<slug:name>.<str:fmt>", views.study_report_figure, name="study-report-figure"),
]
