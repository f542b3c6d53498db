"""Bench runs in the admin: read-only (runs are started from the Bench pages or ``manage.py bench run``)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from benchmarks.bench.models import BenchRun


@admin.register(BenchRun)
class BenchRunAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "evaluation", "job", "created_by", "created_at", "results"]
    list_filter = ["evaluation"]
    search_fields = ["name"]
    readonly_fields = ["name", "evaluation", "config", "job", "created_by", "created_at"]

    @admin.display(description="Results")
    def results(self, run: BenchRun) -> str:
        return format_html('<a href="{}">results</a>', reverse("bench-run-detail", args=[run.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
