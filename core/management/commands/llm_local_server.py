from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.llm import local_server


class Command(BaseCommand):
    help = (
        "Serve Gemma 3 270M on 127.0.0.1 through llama-cpp-python's OpenAI-compatible server (the local-model "
        "dependency group) and register it as an openai_compatible endpoint. Runs until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=local_server.DEFAULT_NAME, help="Endpoint name to register.")
        parser.add_argument("--host", default=local_server.DEFAULT_HOST)
        parser.add_argument("--port", type=int, default=local_server.DEFAULT_PORT)
        parser.add_argument("--context", type=int, default=local_server.DEFAULT_CONTEXT, help="Context size in tokens.")
        parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="CPU threads.")
        parser.add_argument("--no-register", action="store_true", help="Serve only; leave the endpoints alone.")
        parser.add_argument("--check", action="store_true", help="Print whether the group is installed, and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = local_server.local_model_missing()
        if options["check"]:
            self.stdout.write(f"not available: {missing}" if missing else "available")
            return
        if missing:
            raise CommandError(f"No local model: {missing}.")
        model = local_server.gguf_path()
        url = local_server.base_url(options["host"], options["port"])
        if not options["no_register"]:
            # The same path a user takes for their own server: nothing in core/llm knows this one is local.
            call_command(
                "llm_endpoint",
                options["name"],
                *local_server.endpoint_options(url=url, context=options["context"]),
                stdout=self.stdout,
            )
        self.stdout.write(f"Serving {model.name} at {url} (endpoint {options['name']}); Ctrl-C stops it.")
        self.stdout.flush()
        local_server.serve(
            model_path=model,
            host=options["host"],
            port=options["port"],
            context=options["context"],
            threads=options["threads"],
        )
