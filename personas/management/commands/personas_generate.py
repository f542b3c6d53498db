from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personas.models import CensusDataset
from personas.services import personas_generate


class Command(BaseCommand):
    help = "Generate personas from a census dataset in this process (rules only; use the web page for LLM stages)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", type=int, help="census dataset id")
        parser.add_argument("-n", type=int, default=1586)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = CensusDataset.objects.filter(pk=options["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No census dataset with id {options['dataset']}.")
        result = personas_generate(dataset=dataset, n=options["n"], seed=options["seed"])
        self.stdout.write(
            self.style.SUCCESS(f"{result.created} created, {result.skipped} already there, {result.pruned} pruned.")
        )
