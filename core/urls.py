from __future__ import annotations

from django.urls import path

from core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/start/", views.job_start_view, name="job-start"),
    path("jobs/<int:job_id>/", views.job_row, name="job-row"),
    path("jobs/<int:job_id>/page/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun_view, name="job-rerun"),
]
