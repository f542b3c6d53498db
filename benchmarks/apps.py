from __future__ import annotations

from django.apps import AppConfig

JUDGE_PERMISSIONS = [
    "benchmarks.view_judge",
    "benchmarks.view_judgment",
    "benchmarks.add_judgment",
    "benchmarks.view_reportsnapshot",
]


BENCH_VIEW_PERMISSIONS = ["benchmarks.view_benchrun", "benchmarks.view_benchanswer"]


class BenchmarksConfig(AppConfig):
    name = "benchmarks"

    def ready(self) -> None:
        import benchmarks.judging.admin  # noqa: F401  (registers the judge admin)
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register

        # Coordinators and analysts see judges, judgments and study reports, and may run a judge on a study.
        role_permissions_register(COORDINATOR, JUDGE_PERMISSIONS)
        role_permissions_register(ANALYST, JUDGE_PERMISSIONS)
        # PERSONA Bench: analysts read runs and results; coordinators also start, cancel and resume them.
        role_permissions_register(COORDINATOR, [*BENCH_VIEW_PERMISSIONS, "benchmarks.add_benchrun"])
        role_permissions_register(ANALYST, BENCH_VIEW_PERMISSIONS)
        nav_register("Bench", "bench-run-list", permission="benchmarks.view_benchrun", order=40)
