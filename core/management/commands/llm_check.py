from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.llm.endpoints import llm_check
from core.llm.models import ModelEndpoint


class Command(BaseCommand):
    help = (
        "Send one tiny request to an endpoint; report latency, model, and whether structured output and caching work."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", help="Endpoint name.")
        parser.add_argument("--no-cache-check", action="store_true", help="One call only; skip the caching check.")

    def handle(self, *args: Any, **options: Any) -> None:
        endpoint = ModelEndpoint.objects.filter(name=options["endpoint"]).first()
        if endpoint is None:
            names = ", ".join(ModelEndpoint.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No endpoint {options['endpoint']!r} (endpoints: {names}).")
        report = llm_check(endpoint=endpoint, check_cache=not options["no_cache_check"])
        self.stdout.write(f"endpoint:   {endpoint}")
        self.stdout.write(f"latency:    {report.latency_s * 1000:.0f} ms")
        self.stdout.write(f"model:      {report.model}")
        self.stdout.write(f"structured: {report.structured}")
        self.stdout.write(f"caching:    {report.caching}")
        self.stdout.write(f"cost:       ${report.cost_usd}")
        if not report.ok:
            raise CommandError(f"check failed: {report.error}")
        self.stdout.write(self.style.SUCCESS("OK"))
