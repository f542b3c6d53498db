"""Admin for stored study reports (read-only: the report job writes them)."""

from __future__ import annotations

from django.contrib import admin

from annotation.reports.models import ReportSnapshot
from core.admin_base import ReadOnlyAdmin


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("scope", "fingerprint", "computed_at", "job")
    exclude = ("data",)
