"""``manage.py bench run config.json`` starts a bench run (the same job as the app's form); ``bench status ID``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.bench.config import BenchConfigError, bench_config_parse
from benchmarks.bench.models import BenchRun
from benchmarks.bench.results import bench_results
from benchmarks.bench.services import bench_run_create, bench_run_start
from benchmarks.bench.views import endpoint_map_parse
from core.jobs import job_execute


class Command(BaseCommand):
    help = "Start a PERSONA Bench run from a JSON config, or show a run's status and pass rates."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="validate a config and start its run")
        run.add_argument("config", type=Path)
        run.add_argument(
            "--endpoint",
            action="append",
            default=[],
            metavar="PLACEHOLDER=ENDPOINT",
            help="map a model name of the config to an endpoint (repeatable)",
        )
        run.add_argument("--inline", action="store_true", help="run the job in this process instead of a worker")
        status = sub.add_parser("status", help="a run's progress and pass rates")
        status.add_argument("run_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            self._status(options["run_id"])
            return
        path: Path = options["config"]
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not valid JSON ({exc})") from None
        try:
            config = bench_config_parse(data, endpoint_map=endpoint_map_parse("\n".join(options["endpoint"])))
        except BenchConfigError as exc:
            raise CommandError("the config was refused:\n  " + "\n  ".join(exc.problems)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        run = bench_run_create(config=config)
        job = bench_run_start(bench_run=run)
        self.stdout.write(f"Bench run #{run.pk} ({run.items.count()} items): job #{job.pk} queued.")
        if options["inline"]:
            job_execute(job_id=job.pk)
            job.refresh_from_db()
            self.stdout.write(f"Job #{job.pk} {job.status}: {job.done} done, {job.failed} failed of {job.total}.")
            if job.error:
                self.stdout.write(job.error)
            self._status(run.pk)

    def _status(self, run_id: int) -> None:
        run = BenchRun.objects.select_related("job").filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"no bench run #{run_id}")
        job = run.job
        if job is not None:
            self.stdout.write(f"#{run.pk} {run.name}: job #{job.pk} {job.status} ({job.processed}/{job.total}).")
        for name, table in bench_results(run=run)["tables"].items():
            if name in ("pass_rates", "loo_kappa_summary"):
                self.stdout.write(table["title"])
                for row in table["rows"]:
                    self.stdout.write("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
