from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from benchmarks.judging.models import Judge
from benchmarks.judging.services import judge_run_start, judgments_run
from benchmarks.pairs.models import PreferencePair


class Command(BaseCommand):
    help = (
        "Run a judge on personas x pairs (--persona/--pair, repeatable), in both A/B orders (a study's questions: "
        "manage.py study_judge). Runs here by default; --queue sends it to a worker as a job. Stored replies are "
        "skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("judge", help="judge name (manage.py judge --list)")
        parser.add_argument("--queue", action="store_true", help="start a job instead of running in this process")
        self.add_item_arguments(parser)

    def add_item_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persona", type=int, action="append", default=[], help="persona id")
        parser.add_argument("--pair", type=int, action="append", default=[], help="pair id (default: the persona's)")

    def job_label(self, options: dict[str, Any]) -> str:
        return ""

    def handle(self, *args: Any, **options: Any) -> None:
        judge = Judge.objects.select_related("endpoint").filter(name=options["judge"]).first()
        if judge is None:
            raise CommandError(f"No judge named {options['judge']!r}.")
        items = self._items(options)
        if not items:
            raise CommandError("Nothing to judge: give --persona (and optionally --pair).")
        if options["queue"]:
            job = judge_run_start(judge=judge, items=items, label=self.job_label(options))
            self.stdout.write(self.style.SUCCESS(f"Job #{job.pk} queued: {len(items)} item(s) x 2 orders."))
            return
        result = judgments_run(judge=judge, items=items)
        self.stdout.write(
            self.style.SUCCESS(
                f"{judge.name}: {result.stored} stored ({result.invalid} invalid), {result.failed} failed, "
                f"{result.skipped} already there."
            )
        )

    def _items(self, options: dict[str, Any]) -> list[tuple[int, int]]:
        items: list[tuple[int, int]] = []
        for persona_id in options["persona"]:
            pairs = options["pair"] or list(
                PreferencePair.objects.filter(Q(persona_id=persona_id) | Q(persona__isnull=True))
                .usable()
                .values_list("pk", flat=True)
            )
            items += [(persona_id, pair_id) for pair_id in pairs]
        return list(dict.fromkeys(items))
