from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.local_model_demo import local_model_demo_run
from core.llm import local_server


class Command(BaseCommand):
    help = (
        "The demo on the local model (bin/demo runs it when the local-model group is installed): waits for the "
        "server, then judges the demo report's study, runs a small bench and generates and verifies a few pairs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=local_server.DEFAULT_NAME, help="The local model's endpoint name.")
        parser.add_argument("--url", default=local_server.base_url(), help="The server's /v1 base URL.")
        parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait for the server.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            local_server.wait_until_ready(options["url"], timeout=options["timeout"])
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None
        for line in local_model_demo_run(endpoint_name=options["name"]):
            self.stdout.write(line)
