from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/start/", views.job_start_view, name="job-start"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    # Former addresses of the page and of its progress partial, kept for bookmarks and open tabs.
    path("jobs/<int:job_id>/page/", RedirectView.as_view(pattern_name="job-detail", permanent=True)),
    path("jobs/<int:job_id>/progress/", RedirectView.as_view(pattern_name="job-detail", permanent=True)),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun_view, name="job-rerun"),
]
