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


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from perf.result import format_table

    names = sorted(m.name for m in pkgutil.iter_modules(["perf"]) if m.name.startswith("bench_"))
    # An argument naming a module exactly (``bench`` for bench_bench) picks it alone; otherwise it matches substrings.
    exact = [n for n in names if any(n == f"bench_{a}" for a in argv)]
    wanted = exact or [n for n in names if not argv or any(a in n for a in argv)]
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
