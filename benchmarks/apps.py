from __future__ import annotations

from django.apps import AppConfig

JUDGE_PERMISSIONS = [
    "benchmarks.view_judge",
    "benchmarks.view_judgment",
    "benchmarks.add_judgment",
]


class BenchmarksConfig(AppConfig):
    name = "benchmarks"

    def ready(self) -> None:
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register

        # Coordinators and analysts see judges and judgments, and may run a judge on a study.
        role_permissions_register(COORDINATOR, JUDGE_PERMISSIONS)
        role_permissions_register(ANALYST, JUDGE_PERMISSIONS)
        nav_register("Pairs", "pair-list", permission="benchmarks.view_preferencepair", order=35)
