from __future__ import annotations

from django.contrib import admin

# Sub-packages keep their admin beside their models; importing it here registers it (as benchmarks.models does).
import benchmarks.bench.admin
import benchmarks.datasets.admin
import benchmarks.judging.admin  # noqa: F401
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "source_id", "topic", "split", "controversy"]
    list_filter = ["split", "controversy"]
    search_fields = ["text", "source_id", "topic"]


@admin.register(PreferencePair)
class PreferencePairAdmin(admin.ModelAdmin):
    list_display = ["id", "persona", "prompt", "split", "verification"]
    list_filter = ["split", "verification"]
    raw_id_fields = ["persona", "prompt"]
