from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personas.pums.errors import PumsInputError
from personas.pums.importer import census_dataset_import


class Command(BaseCommand):
    help = "Import an ACS PUMS extract (person file, optional housing file, data dictionary) as a census dataset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="psam_pXX.csv or the Census zip csv_pXX.zip")
        parser.add_argument("--dictionary", required=True, help="PUMS_Data_Dictionary_YYYY.csv")
        parser.add_argument("--housing", help="psam_hXX.csv or csv_hXX.zip of the same state and year")
        parser.add_argument("--name", default="", help="dataset name (default: ACS <year> PUMS <state>)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            dataset = census_dataset_import(
                person_path=options["person"],
                dictionary_path=options["dictionary"],
                housing_path=options["housing"],
                name=options["name"],
                progress=lambda rows: self.stderr.write(f"\r{rows} persons read", ending=""),
            )
        except PumsInputError as exc:
            raise CommandError(f"{exc}. Nothing was imported.") from None
        self.stderr.write("")
        rate = dataset.housing_join_rate
        joined = "" if rate is None else f"; {rate:.0%} of persons joined their household"
        self.stdout.write(self.style.SUCCESS(f"Imported {dataset} (id {dataset.pk}){joined}."))
        if dataset.join_warning:
            self.stderr.write(self.style.WARNING(f"WARNING: {dataset.join_warning}."))
