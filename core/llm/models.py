"""LLM endpoints (configured rows), the per-call usage log and the response cache."""

from __future__ import annotations

import os
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from core.llm.params import sampling_params_problems
from core.llm.types import Usage

_MTOK = Decimal(1_000_000)
# Long enough for a local model server (llama.cpp, Ollama) to restart and load a small model.
DEFAULT_RETRY_BUDGET_SECONDS = 30.0
OFFLINE_MODELS = ("always_a", "random", "shorter_answer", "persona_overlap", "text")


class StructuredOutput(models.TextChoices):
    """How an OpenAI-compatible server is asked for a structured reply (Anthropic endpoints always use a forced tool).

    ``DOWNGRADES`` is the order a server's rejection walks down at run time; ``manage.py llm_check`` detects the best
    mode the server both accepts and answers validly in.
    """

    JSON_SCHEMA = "json_schema", "json_schema (OpenAI structured outputs, vLLM, Ollama)"
    JSON_OBJECT = "json_object", "json_object with the schema (llama.cpp, llama-cpp-python)"
    TOOLS = "tools", "A forced tool (function) call"
    TEXT = "text", "Plain text, the answer parsed from the reply"


# A server that rejects a mode at run time is asked in the next one down (and the endpoint remembers it).
STRUCTURED_OUTPUT_DOWNGRADES: dict[str, str] = {
    StructuredOutput.JSON_SCHEMA.value: StructuredOutput.JSON_OBJECT.value,
    StructuredOutput.JSON_OBJECT.value: StructuredOutput.TEXT.value,
    StructuredOutput.TOOLS.value: StructuredOutput.TEXT.value,
}


class Provider(models.TextChoices):
    ANTHROPIC = "anthropic", "Anthropic (Claude)"
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible (OpenAI, vLLM, Ollama)"
    OFFLINE = "offline", "Offline baseline (no model)"


def _price_field(label: str) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=12, decimal_places=4, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )


class ModelEndpoint(models.Model):
    """One model behind one API: where it lives, how to call it, how fast we may call it and what it costs.

    The key is never stored: ``api_key_env`` names the environment variable that holds it.
    """

    name = models.SlugField(max_length=64, unique=True, help_text="Short id used in commands and job parameters.")
    provider = models.CharField(max_length=32, choices=Provider.choices)
    model = models.CharField(
        max_length=200, help_text=f"Provider model id; for offline endpoints one of: {', '.join(OFFLINE_MODELS)}."
    )
    base_url = models.URLField(
        max_length=500, blank=True, help_text="Blank = the provider's default (api.anthropic.com / api.openai.com)."
    )
    api_key_env = models.CharField(
        "API key environment variable",
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[A-Z_][A-Z0-9_]*$", "An environment variable name, e.g. ANTHROPIC_API_KEY.")],
        help_text="Name of the environment variable holding the key (never the key). Blank for keyless servers.",
    )
    params = models.JSONField(
        "sampling parameters", default=dict, blank=True, help_text="Extra keywords for the SDK's create() call."
    )
    max_tokens = models.PositiveIntegerField(default=1024, validators=[MinValueValidator(1)])
    structured_output = models.CharField(
        max_length=16,
        choices=StructuredOutput.choices,
        default=StructuredOutput.JSON_SCHEMA,
        help_text=(
            "OpenAI-compatible servers: how choices and fields are asked for. Set by llm_check; a server that rejects "
            "it at run time is moved one step down (json_schema → json_object → text). Anthropic: always a tool."
        ),
    )
    context_window = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Tokens the server's context holds (blank = unknown; llm_check fills it from the server's error).",
    )
    concurrency = models.PositiveIntegerField(
        default=4, validators=[MinValueValidator(1)], help_text="Calls in flight at once, across all workers."
    )
    requests_per_minute = models.PositiveIntegerField(default=0, help_text="0 = no limit.")
    timeout_seconds = models.FloatField(default=120.0, validators=[MinValueValidator(0.1)])
    retry_budget_seconds = models.FloatField(
        "retry budget (seconds)",
        default=DEFAULT_RETRY_BUDGET_SECONDS,
        validators=[MinValueValidator(0.0)],
        help_text=(
            "How long a call keeps retrying a transient error (connection refused, 5xx, timeout, 429) before its item "
            "is left for a re-run. 30 s covers a local server's restart; a vLLM server loading a model needs minutes "
            "(e.g. 600). While it waits, the job's page says which endpoint it is waiting for."
        ),
    )
    max_attempts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(1)],
        help_text="At most this many tries per call, even within the retry budget (blank = as many as it allows).",
    )
    price_input_per_mtok = _price_field("USD per million input tokens")
    price_output_per_mtok = _price_field("USD per million output tokens")
    price_cache_read_per_mtok = _price_field("USD per million cache-read tokens")
    price_cache_write_per_mtok = _price_field("USD per million cache-write tokens")
    batch_price_factor = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal(0))],
        help_text="Share of the price paid for calls sent through a batch API (Anthropic: 0.5).",
    )
    cache_min_tokens = models.PositiveIntegerField(
        "prompt cache minimum (tokens)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "The shortest prompt prefix the provider caches; a shorter one is billed as plain input on every call. "
            "Blank = the provider's documented value for this model (Claude: 1,024; Sonnet 4.6: 2,048; Haiku 3/3.5: "
            "2,048; Opus 4.5/4.6 and Haiku 4.5: 4,096; OpenAI: 1,024)."
        ),
    )
    cache_responses = models.BooleanField(
        default=False, help_text="Store answers and serve identical requests from the store (free, reproducible)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__in=[p.value for p in Provider]), name="core_modelendpoint_provider_valid"
            ),
            models.CheckConstraint(condition=Q(concurrency__gte=1), name="core_modelendpoint_concurrency_positive"),
            models.CheckConstraint(
                condition=Q(structured_output__in=StructuredOutput.values),
                name="core_modelendpoint_structured_output_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider}: {self.model})"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.provider and (problems := sampling_params_problems(provider=self.provider, params=self.params)):
            errors["params"] = problems
        if self.provider in (Provider.ANTHROPIC, Provider.OPENAI_COMPATIBLE) and not (
            self.base_url or self.api_key_env
        ):
            errors["api_key_env"] = ["The provider's public API needs a key: name the variable that holds it."]
        if self.provider == Provider.OFFLINE and self.model not in OFFLINE_MODELS:
            errors["model"] = [f"Offline endpoints take one of: {', '.join(OFFLINE_MODELS)}."]
        if errors:
            raise ValidationError(errors)

    def api_key(self) -> str | None:
        """The key from the environment; None when no variable is named. Raises KeyError when it is unset."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise KeyError(self.api_key_env)
        return value

    @property
    def prompt_cache_min_tokens(self) -> int:
        """The shortest prompt prefix the provider caches: the endpoint's own setting, else the documented value."""
        return self.cache_min_tokens or documented_cache_min_tokens(provider=self.provider, model=self.model)

    def cost(self, usage: Usage, *, batch: bool = False) -> Decimal:
        """USD for one call's usage; cache reads and writes priced on their own, batch calls at the batch share."""
        total = (
            usage.input_tokens * self.price_input_per_mtok
            + usage.output_tokens * self.price_output_per_mtok
            + usage.cache_read_tokens * self.price_cache_read_per_mtok
            + usage.cache_write_tokens * self.price_cache_write_per_mtok
        ) / _MTOK
        if batch:
            total *= self.batch_price_factor
        return total.quantize(Decimal("0.000001"))


# Anthropic's documented minimum cacheable prompt length by model family (checked December 2026), most specific
# first; every other Claude model caches from 1,024 tokens. OpenAI's automatic prefix caching starts at 1,024.
_CLAUDE_CACHE_MINIMUMS = (
    ("opus-4-6", 4096),
    ("opus-4-5", 4096),
    ("haiku-4", 4096),
    ("sonnet-4-6", 2048),
    ("haiku", 2048),  # Claude 3 Haiku, 3.5 Haiku
)


def documented_cache_min_tokens(*, provider: str, model: str) -> int:
    """The provider's documented minimum cacheable prefix for ``model``, in tokens."""
    if provider == Provider.ANTHROPIC:
        name = model.lower().replace(".", "-")
        return next((tokens for marker, tokens in _CLAUDE_CACHE_MINIMUMS if marker in name), 1024)
    return 1024


class LLMCall(models.Model):
    """One answered request: who caused it, what it used and cost. Cached answers are logged at zero cost."""

    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.CASCADE, related_name="calls")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="llm_calls")
    request_key = models.CharField(max_length=255, blank=True)
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    latency_s = models.FloatField(default=0.0)
    valid = models.BooleanField(default=True)
    stop_reason = models.CharField(max_length=32, blank=True, help_text="Why the model stopped, as the provider said.")
    from_cache = models.BooleanField(default=False)
    batch = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "created_at"], name="core_llmcall_endpoint_time")]

    def __str__(self) -> str:
        return f"{self.endpoint_id}:{self.request_key or self.pk}"


class LLMResponse(models.Model):
    """A stored answer, keyed by a hash of the endpoint's model + parameters + the request."""

    key = models.CharField(max_length=64, unique=True)
    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.CASCADE, related_name="cached_responses")
    completion = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key
