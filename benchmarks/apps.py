from __future__ import annotations

from django.apps import AppConfig

JUDGE_PERMISSIONS = ["benchmarks.view_judge", "benchmarks.view_judgment"]
RUN_JUDGES = "benchmarks.run_judges"

DATASET_PERMISSIONS = [
    "benchmarks.view_prompt",
    "benchmarks.add_prompt",
    "benchmarks.change_prompt",
    "benchmarks.view_preferencedataset",
    "benchmarks.add_preferencedataset",
    "benchmarks.change_preferencedataset",
]


BENCH_VIEW_PERMISSIONS = ["benchmarks.view_benchrun", "benchmarks.view_benchanswer"]


class BenchmarksConfig(AppConfig):
    name = "benchmarks"

    def ready(self) -> None:
        from benchmarks.bench.demo import bench_demo_ensure
        from benchmarks.demo import dataset_demo_ensure
        from core.demo import DEMO_STEPS
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register

        # Coordinators and analysts see judges and judgments; only coordinators run a judge (paid model calls).
        role_permissions_register(COORDINATOR, [*JUDGE_PERMISSIONS, RUN_JUDGES])
        role_permissions_register(ANALYST, JUDGE_PERMISSIONS)
        nav_register("Pairs", "pair-list", permission="benchmarks.view_preferencepair", order=35)
        # PERSONA Bench: analysts read runs and results; coordinators also start, cancel and resume them.
        role_permissions_register(COORDINATOR, [*BENCH_VIEW_PERMISSIONS, "benchmarks.add_benchrun"])
        role_permissions_register(ANALYST, BENCH_VIEW_PERMISSIONS)
        nav_register("Bench", "bench-run-list", permission="benchmarks.view_benchrun", order=40)
        # Coordinators prepare prompts and build datasets; analysts read them.
        role_permissions_register(COORDINATOR, DATASET_PERMISSIONS)
        role_permissions_register(ANALYST, ["benchmarks.view_prompt", "benchmarks.view_preferencedataset"])
        nav_register("Prompts", "prompt-list", permission="benchmarks.view_prompt", order=24)
        nav_register("Datasets", "dataset-list", permission="benchmarks.view_preferencedataset", order=25)
        if dataset_demo_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(dataset_demo_ensure)
        if bench_demo_ensure not in DEMO_STEPS:  # after the dataset: the bench samples its test pairs
            DEMO_STEPS.append(bench_demo_ensure)
