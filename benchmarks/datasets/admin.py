from __future__ import annotations

from django.contrib import admin

from benchmarks.datasets.models import DatasetItem, PreferenceDataset


@admin.register(PreferenceDataset)
class PreferenceDatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "origin", "generator", "verifier", "seed", "planned_at"]
    list_filter = ["origin"]
    search_fields = ["name", "description"]
    readonly_fields = ["planned_at", "plan_digest", "created_by", "created_at"]


@admin.register(DatasetItem)
class DatasetItemAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "persona", "prompt", "split", "status", "failure_reason"]
    list_filter = ["status", "split", "failure_stage", "failure_reason"]
    raw_id_fields = ["dataset", "persona", "prompt", "pair"]
