from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.llm.models import ModelEndpoint
from personas.llm_profile import personas_llm_profile, profile_report
from personas.models import CensusDataset, Persona


class Command(BaseCommand):
    help = (
        "Measure the LLM persona profile stage: share of LLM-written profiles that pass the consistency check, "
        "distinct values per field against the curated draw, category coverage. With --write ENDPOINT the stage "
        "runs first (in this process) on the personas not written yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", type=int, help="census dataset id (default: every persona)")
        parser.add_argument("--write", metavar="ENDPOINT", help="name of the model endpoint that writes profiles")

    def handle(self, *args: Any, **options: Any) -> None:
        personas = Persona.objects.order_by("id")
        if options["dataset"] is not None:
            if not CensusDataset.objects.filter(pk=options["dataset"]).exists():
                raise CommandError(f"No census dataset with id {options['dataset']}.")
            personas = personas.filter(dataset_id=options["dataset"])
        if options["write"]:
            endpoint = ModelEndpoint.objects.filter(name=options["write"]).first()
            if endpoint is None:
                raise CommandError(f"No model endpoint named {options['write']!r} (see manage.py llm_endpoint).")
            counts = personas_llm_profile(personas=list(personas), endpoint=endpoint)
            self.stdout.write(f"Profiles: {', '.join(f'{n} {o}' for o, n in sorted(counts.items())) or 'none new'}")
        for line in profile_report(personas.iterator(chunk_size=500)).lines():
            self.stdout.write(line)
