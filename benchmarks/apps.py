from __future__ import annotations

from django.apps import AppConfig

JUDGE_PERMISSIONS = ["benchmarks.view_judge", "benchmarks.view_judgment"]
RUN_JUDGES = "benchmarks.run_judges"


class BenchmarksConfig(AppConfig):
    name = "benchmarks"

    def ready(self) -> None:
        from core.roles import ANALYST, COORDINATOR, role_permissions_register

        # Coordinators and analysts see judges and judgments; only coordinators run a judge (paid model calls).
        role_permissions_register(COORDINATOR, [*JUDGE_PERMISSIONS, RUN_JUDGES])
        role_permissions_register(ANALYST, JUDGE_PERMISSIONS)
