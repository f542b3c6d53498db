"""Export a preference dataset in the Hugging Face layout (Parquet + JSONL + dataset card)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.datasets.export import dataset_export
from benchmarks.datasets.models import PreferenceDataset


class Command(BaseCommand):
    help = "Write <out>/data/<split>-*.parquet, <out>/jsonl/<split>.jsonl and <out>/README.md for one dataset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The dataset's name.")
        parser.add_argument("--out", required=True, type=Path, help="Directory to write (created).")
        parser.add_argument("--format", choices=["parquet", "jsonl", "both"], default="both")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = PreferenceDataset.objects.filter(name=options["name"]).first()
        if dataset is None:
            raise CommandError(f"No dataset named {options['name']!r}.")
        formats = ("parquet", "jsonl") if options["format"] == "both" else (options["format"],)
        result = dataset_export(dataset=dataset, directory=options["out"], formats=formats)
        counts = ", ".join(f"{split} {n}" for split, n in result.counts.items()) or "no pairs"
        self.stdout.write(f"Exported {dataset.name} to {result.directory} ({counts}).")
