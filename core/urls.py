from __future__ import annotations

from django.urls import path

from core import views
from core.htmx import moved_to

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/start/", views.job_start_view, name="job-start"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    # Former addresses of the page and of its progress partial, kept for bookmarks and open tabs.
    path("jobs/<int:job_id>/page/", moved_to("job-detail")),
    path("jobs/<int:job_id>/progress/", moved_to("job-detail")),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun_view, name="job-rerun"),
]
