from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotation.models import Study
from annotation.selectors import study_items
from benchmarks.management.commands.judge_run import Command as JudgeRunCommand


class Command(JudgeRunCommand):
    help = (
        "Run a judge on an annotation study's pair questions, in both A/B orders. Runs here by default; --queue "
        "sends it to a worker as a job. Stored replies are skipped."
    )

    def add_item_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", type=int, help="annotation study id")

    def job_label(self, options: dict[str, Any]) -> str:
        return f"study {options['study']}"

    def _items(self, options: dict[str, Any]) -> list[tuple[int, int]]:
        study = Study.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with id {options['study']}.")
        return list(dict.fromkeys((item.persona_id, item.pair_id) for item in study_items(study=study)))
