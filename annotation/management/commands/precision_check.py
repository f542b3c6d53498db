from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.precision.check import precision_check
from annotation.precision.simulate import Design, process_for_kappa


class Command(BaseCommand):
    help = (
        "Play rounds of a design with a known agreement process through the real pipeline (study services, answer "
        "saves, the finished report) and compare their headline interval width with the predicted one. Every round "
        "is rolled back: the database is left as it was."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--personas", type=int, default=12)
        parser.add_argument("--raters", type=int, default=3)
        parser.add_argument("--questions", type=int, default=4)
        parser.add_argument("--checks", type=int, default=1, help="attention checks per participant")
        parser.add_argument("--kappa", type=float, default=0.5, help="the process's expected headline kappa")
        parser.add_argument("--rounds", type=int, default=30, help="rounds played through the pipeline")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["personas"] < 1 or options["raters"] < 2 or options["questions"] < 1 or options["rounds"] < 2:
            raise CommandError("Use at least 1 persona, 2 raters, 1 question and 2 rounds.")
        try:
            process = process_for_kappa(options["kappa"], raters=options["raters"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        design = Design(options["personas"], options["raters"], options["questions"], options["checks"])
        result = precision_check(design=design, process=process, rounds=options["rounds"], seed=options["seed"])
        predicted = result.prediction.mean_width
        low, high = result.ratio_interval
        self.stdout.write(
            f"design: {design}, {design.attention_checks} attention check(s); process: raters pick the persona's "
            f"preference with probability {process.accuracy:.3f} (expected headline kappa {options['kappa']})"
        )
        if predicted is None:
            self.stdout.write(f"predicted: {result.prediction.reason}")
            return
        self.stdout.write(f"predicted width: {predicted:.3f} (mean of {result.prediction.rounds} simulated rounds)")
        self.stdout.write(
            f"observed width:  {result.mean_width:.3f} (mean of {len(result.widths)} of {result.rounds} rounds "
            f"through the pipeline with an interval; mean kappa {sum(result.kappas) / len(result.kappas):.3f})"
        )
        self.stdout.write(f"observed / predicted: {result.ratio:.3f} (95 % interval {low:.3f} to {high:.3f})")
