"""Admin for judges (editable, with a "run on study items" hint) and judgments (read-only: they are replies)."""

from __future__ import annotations

from django.contrib import admin

from benchmarks.judging.models import Judge, Judgment
from core.admin_base import ReadOnlyAdmin


@admin.register(Judge)
class JudgeAdmin(admin.ModelAdmin):
    list_display = ("name", "endpoint", "samples", "with_confidence", "allow_abstain", "updated_at")
    list_filter = ("endpoint__provider", "with_confidence", "allow_abstain")
    search_fields = ("name", "endpoint__name", "endpoint__model")
    raw_id_fields = ("endpoint",)


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "judge", "persona", "pair", "order", "sample", "choice", "confidence", "latency_s")
    list_filter = ("judge", "order", "choice")
    raw_id_fields = ("persona", "pair")
    search_fields = ("reasoning", "raw", "error")
