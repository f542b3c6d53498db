from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

# Sub-packages keep their admin beside their models; importing it here registers it (as core.models does).
import core.llm.admin  # noqa: F401
from core.jobs import JobError, job_cancel, job_rerun
from core.models import Job, Statistic


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "label",
        "status",
        "progress",
        "cost_usd",
        "started_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("kind", "error")
    actions = ("cancel_jobs", "rerun_jobs")
    # Jobs are written by services and workers only.
    readonly_fields = [f.name for f in Job._meta.fields] + ["progress"]
    change_list_template = "admin/core/job/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Progress")
    def progress(self, job: Job) -> SafeString:
        # The same live partial as the Jobs page: it polls while the job is active.
        return render_to_string("core/job_list.html#job-progress", {"job": job, "poll": True})

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        cancelled = sum(job_cancel(job=job) for job in queryset)
        self.message_user(request, f"Cancelled {cancelled} job(s).")

    @admin.action(description="Re-run selected jobs (only the remaining work)", permissions=["change"])
    def rerun_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        for job in queryset:
            try:
                job_rerun(job=job)
            except JobError as exc:
                self.message_user(request, f"Job #{job.pk}: {exc}", level=messages.WARNING)


@admin.register(Statistic)
class StatisticAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "value", "computed_at")
    readonly_fields = ("key", "label", "value", "job", "computed_at")
