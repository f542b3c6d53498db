"""Admin for LLM endpoints (editable) and the usage log and response cache (read-only)."""

from __future__ import annotations

from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from core.llm.models import LLMCall, LLMResponse, ModelEndpoint


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "provider",
        "model",
        "base_url",
        "structured_output",
        "concurrency",
        "requests_per_minute",
        "cache_minimum",
        "cache_responses",
    )
    list_filter = ("provider", "structured_output", "cache_responses")
    search_fields = ("name", "model", "base_url")
    readonly_fields = ("cache_minimum",)
    fieldsets = (
        (None, {"fields": ("name", "provider", "model", "base_url", "api_key_env")}),
        (
            "Calls",
            {
                "fields": (
                    "params",
                    "max_tokens",
                    "structured_output",
                    "context_window",
                    "timeout_seconds",
                    "retry_budget_seconds",
                    "max_attempts",
                    "cache_min_tokens",
                    "cache_minimum",
                    "cache_responses",
                )
            },
        ),
        ("Limits (across all workers)", {"fields": ("concurrency", "requests_per_minute")}),
        (
            "Prices (USD per million tokens)",
            {
                "fields": (
                    "price_input_per_mtok",
                    "price_output_per_mtok",
                    "price_cache_read_per_mtok",
                    "price_cache_write_per_mtok",
                    "batch_price_factor",
                )
            },
        ),
    )

    @admin.display(description="prompt cache minimum in use")
    def cache_minimum(self, endpoint: ModelEndpoint) -> str:
        source = "set here" if endpoint.cache_min_tokens else "documented for this model"
        return f"{endpoint.prompt_cache_min_tokens:,} tokens ({source})"


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "endpoint", "job", "request_key", "valid", "from_cache", "batch", "cost_usd")
    list_filter = ("endpoint", "valid", "from_cache", "batch")
    search_fields = ("request_key", "error")
    list_select_related = ("endpoint", "job")
    raw_id_fields = ("job",)


@admin.register(LLMResponse)
class LLMResponseAdmin(ReadOnlyAdmin):
    list_display = ("key", "endpoint", "created_at")
    list_filter = ("endpoint",)
    search_fields = ("key",)
