from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.judging.models import Judge
from benchmarks.judging.services import baseline_judges_ensure, judge_upsert
from core.llm.models import ModelEndpoint


class Command(BaseCommand):
    help = "Create a judge on an endpoint, or change the options you give; --list lists the judges."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?")
        parser.add_argument("--endpoint", help="model endpoint name (manage.py llm_endpoint --list)")
        parser.add_argument("--samples", type=int)
        parser.add_argument("--confidence", action="store_true", default=None, help="ask for a confidence 0-100")
        parser.add_argument("--no-confidence", dest="confidence", action="store_false")
        parser.add_argument("--abstain", action="store_true", default=None, help='allow "can\'t tell"')
        parser.add_argument("--no-abstain", dest="abstain", action="store_false")
        parser.add_argument("--list", action="store_true")
        parser.add_argument("--baselines", action="store_true", help="create the four offline baseline judges")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["baselines"]:
            names = [judge.name for judge in baseline_judges_ensure()]
            self.stdout.write(self.style.SUCCESS(f"Baseline judges: {', '.join(names)}."))
            return
        if options["list"] or not options["name"]:
            for judge in Judge.objects.select_related("endpoint"):
                self.stdout.write(f"{judge.name}\t{judge.endpoint}\tsamples={judge.samples}")
            return
        existing = Judge.objects.filter(name=options["name"]).first()
        endpoint_name = options["endpoint"] or (existing.endpoint.name if existing else None)
        if endpoint_name is None:
            raise CommandError("A new judge needs --endpoint.")
        endpoint = ModelEndpoint.objects.filter(name=endpoint_name).first()
        if endpoint is None:
            raise CommandError(f"No endpoint named {endpoint_name!r}.")
        fields: dict[str, Any] = {}
        for option, field in (("samples", "samples"), ("confidence", "with_confidence"), ("abstain", "allow_abstain")):
            if options[option] is not None:
                fields[field] = options[option]
        try:
            judge = judge_upsert(name=options["name"], endpoint=endpoint, **fields)
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
            raise CommandError(f"Judge not saved: {problems}") from None
        self.stdout.write(self.style.SUCCESS(f"Judge {judge.name} on {endpoint.name} ({judge.samples} sample(s))."))
