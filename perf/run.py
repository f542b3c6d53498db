"""Run the performance benchmarks and print one table: `python -m perf.run [name ...]` (or `bin/perf`).

Each `perf/bench_*.py` module exposes `run() -> list[perf.Result]`; a Result compares a measured figure with the
target it is held to (the figure the feature was accepted against).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Named groups: ``bin/perf scale`` prints the paper-scale figures in one table (the study's pages and exports, the
# report job and page, verification memory and throughput, dataset generation on one and two workers). A module not
# present (yet) is left out, so a group may name one another branch adds.
GROUPS = {
    "scale": ["bench_study_scale", "bench_report_scale", "bench_runner_memory", "bench_dataset_workers"],
}


def selected(names: list[str], argv: list[str]) -> list[str]:
    """The modules to run: a group's, in its order; an argument naming a module exactly (``bench`` for bench_bench)
    alone; otherwise every module whose name contains an argument (all without arguments)."""
    if len(argv) == 1 and argv[0] in GROUPS:
        return [name for name in GROUPS[argv[0]] if name in names]
    exact = [n for n in names if any(n == f"bench_{a}" for a in argv)]
    return exact or [n for n in names if not argv or any(a in n for a in argv)]


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from perf.result import format_table

    names = sorted(m.name for m in pkgutil.iter_modules(["perf"]) if m.name.startswith("bench_"))
    wanted = selected(names, argv)
    results = []
    for name in wanted:
        started = time.perf_counter()
        module = importlib.import_module(f"perf.{name}")
        print(f"running {name} …", file=sys.stderr, flush=True)
        results.extend(module.run())
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(format_table(results))
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
