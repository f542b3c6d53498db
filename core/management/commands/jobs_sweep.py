from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.jobs import jobs_sweep_stalled


class Command(BaseCommand):
    help = "Mark running jobs whose worker stopped reporting as failed (re-run resumes them)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Marked {jobs_sweep_stalled()} stalled job(s) as failed and resumable.")
