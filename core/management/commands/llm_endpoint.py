from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.llm.endpoints import endpoint_upsert
from core.llm.models import ModelEndpoint, Provider, StructuredOutput

# option name → model field, converter
_FIELDS: dict[str, tuple[str, Any]] = {
    "provider": ("provider", str),
    "model": ("model", str),
    "base_url": ("base_url", str),
    "api_key_env": ("api_key_env", str),
    "max_tokens": ("max_tokens", int),
    "structured_output": ("structured_output", str),
    "context_window": ("context_window", int),
    "cache_min_tokens": ("cache_min_tokens", int),
    "concurrency": ("concurrency", int),
    "rpm": ("requests_per_minute", int),
    "timeout": ("timeout_seconds", float),
    "max_attempts": ("max_attempts", int),
    "retry_budget": ("retry_budget_seconds", float),
    "price_input": ("price_input_per_mtok", Decimal),
    "price_output": ("price_output_per_mtok", Decimal),
    "price_cache_read": ("price_cache_read_per_mtok", Decimal),
    "price_cache_write": ("price_cache_write_per_mtok", Decimal),
    "batch_price_factor": ("batch_price_factor", Decimal),
}


class Command(BaseCommand):
    help = (
        "Create or update an LLM endpoint (only the options given change), or list them with --list. "
        "Example: llm_endpoint claude --provider anthropic --model claude-sonnet-4-5 --api-key-env ANTHROPIC_API_KEY"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="Endpoint name (a slug).")
        parser.add_argument("--list", action="store_true", help="List the endpoints and exit.")
        parser.add_argument("--provider", choices=Provider.values)
        parser.add_argument("--model")
        parser.add_argument("--base-url", help="e.g. http://localhost:11434/v1 (Ollama), http://gpu:8000/v1 (vLLM).")
        parser.add_argument("--api-key-env", help="NAME of the environment variable holding the key.")
        parser.add_argument(
            "--param", action="append", default=[], metavar="KEY=JSON", help="Sampling parameter, e.g. temperature=0."
        )
        parser.add_argument("--clear-params", action="store_true", help="Drop all sampling parameters first.")
        parser.add_argument("--max-tokens", type=int)
        parser.add_argument(
            "--structured-output",
            choices=StructuredOutput.values,
            help="How an OpenAI-compatible server is asked for choices (llm_check detects it; this overrides).",
        )
        parser.add_argument("--context-window", type=int, help="Tokens the server's context holds (e.g. 4096).")
        parser.add_argument(
            "--cache-min-tokens", type=int, help="Shortest cached prompt prefix (default: the documented value)."
        )
        parser.add_argument("--concurrency", type=int)
        parser.add_argument("--rpm", type=int, help="Requests per minute across all workers (0 = no limit).")
        parser.add_argument("--timeout", type=float, help="Seconds per call.")
        parser.add_argument("--max-attempts", type=int, help="At most this many tries per call (default: no cap).")
        parser.add_argument(
            "--retry-budget",
            type=float,
            help="Seconds a call retries transient errors before its item is left for a re-run (default 30; "
            "a vLLM server loading a model: e.g. 600).",
        )
        for price in ("input", "output", "cache-read", "cache-write"):
            parser.add_argument(f"--price-{price}", help=f"USD per million {price.replace('-', ' ')} tokens.")
        parser.add_argument("--batch-price-factor", help="Share of the price paid through the batch API (0.5).")
        parser.add_argument("--cache-responses", action=argparse.BooleanOptionalAction)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for endpoint in ModelEndpoint.objects.all():
                self.stdout.write(str(endpoint))
            return
        name = options["name"]
        if not name:
            raise CommandError("Give the endpoint name (or --list).")
        existing = ModelEndpoint.objects.filter(name=name).first()
        fields: dict[str, Any] = {}
        for option, (field, convert) in _FIELDS.items():
            if options[option] is not None:
                fields[field] = convert(options[option])
        if options["cache_responses"] is not None:
            fields["cache_responses"] = options["cache_responses"]
        if options["param"] or options["clear_params"]:
            params = {} if options["clear_params"] or existing is None else dict(existing.params)
            for item in options["param"]:
                key, sep, raw = item.partition("=")
                if not sep:
                    raise CommandError(f"--param takes KEY=VALUE, got {item!r}.")
                try:
                    params[key] = json.loads(raw)
                except ValueError:
                    params[key] = raw
            fields["params"] = params
        try:
            endpoint, created = endpoint_upsert(name=name, **fields)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"Endpoint {name!r} not saved: {problems}") from None
        self.stdout.write(self.style.SUCCESS(f"{'Created' if created else 'Updated'} {endpoint}."))
        self.stdout.write(f"Prompt cache minimum: {endpoint.prompt_cache_min_tokens:,} tokens.")
