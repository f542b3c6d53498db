from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.jobs import jobs_resend_unclaimed, jobs_sweep_stalled


class Command(BaseCommand):
    help = (
        "Resume running jobs whose worker stopped reporting (or mark them failed and resumable), and send again "
        "queued jobs that no worker has claimed (what beat's sweep does every 15 s)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Resumed or failed {jobs_sweep_stalled()} stalled job(s).")
        self.stdout.write(f"Sent {jobs_resend_unclaimed()} unclaimed queued job(s) to the queue again.")
