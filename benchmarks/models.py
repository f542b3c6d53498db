"""The benchmarks app's models, registered with Django by importing their modules here.

Each model lives in its sub-package and is imported from there (``benchmarks.prompts.models``,
``benchmarks.pairs.models``, ``benchmarks.datasets.models``, ``benchmarks.judging.models``,
``benchmarks.bench.models``); this module is not an address for any of them (tests/test_import_graph.py).
"""

from __future__ import annotations

import benchmarks.bench.models
import benchmarks.datasets.models
import benchmarks.judging.models
import benchmarks.pairs.models
import benchmarks.prompts.models  # noqa: F401
