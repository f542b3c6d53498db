from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.llm.endpoints import llm_check
from core.llm.models import ModelEndpoint


class Command(BaseCommand):
    help = (
        "Check an endpoint with a few tiny requests: structured output (the best mode the server takes is detected "
        "and stored), whether the chat template keeps the system message, and prompt caching (sized to the context)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", help="Endpoint name.")
        parser.add_argument("--no-cache-check", action="store_true", help="Skip the caching check.")
        parser.add_argument(
            "--keep-structured-output",
            action="store_true",
            help="Test the endpoint's stored structured-output mode instead of detecting the best one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        endpoint = ModelEndpoint.objects.filter(name=options["endpoint"]).first()
        if endpoint is None:
            names = ", ".join(ModelEndpoint.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No endpoint {options['endpoint']!r} (endpoints: {names}).")
        report = llm_check(
            endpoint=endpoint, check_cache=not options["no_cache_check"], detect=not options["keep_structured_output"]
        )
        self.stdout.write(f"endpoint:   {endpoint}")
        self.stdout.write(f"base URL:   {report.base_url}")
        self.stdout.write(f"latency:    {report.latency_s * 1000:.0f} ms")
        self.stdout.write(f"model:      {report.model}")
        self.stdout.write(f"structured: {report.structured}")
        self.stdout.write(f"system msg: {report.system_message}")
        self.stdout.write(f"context:    {report.context}")
        source = "set on the endpoint" if endpoint.cache_min_tokens else f"documented for {endpoint.model}"
        self.stdout.write(f"cache min:  {endpoint.prompt_cache_min_tokens:,} tokens ({source})")
        self.stdout.write(f"caching:    {report.caching}")
        self.stdout.write(f"cost:       ${report.cost_usd}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"WARNING: {warning}"))
        if not report.ok:
            raise CommandError(f"check failed ({report.base_url}): {report.error}")
        suffix = f", with {len(report.warnings)} warning(s) above" if report.warnings else ""
        self.stdout.write(self.style.SUCCESS(f"OK{suffix}"))
