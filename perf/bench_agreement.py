"""Pairwise Cohen's kappa for 20 raters x 317,200 items: vectorised vs a loop of sklearn.metrics.cohen_kappa_score.

Target: the vectorised matrix must be >= 100x faster than the sklearn loop over the 190 rater pairs and equal
to it within 1e-12. 317,200 items = PERSONA's 1,586 personas x 200 items; the raters copy a hidden answer with
rater-specific reliability, use three labels (chosen / rejected / abstain) and miss 10 % of the items.

The sklearn loop is timed pair by pair, each pair restricted to the items both rated (the masking counts, as it
would in a real loop). If it runs past ``SKLEARN_BUDGET_S`` the remaining pairs are extrapolated from the mean time
per pair measured so far, and the note says so; the max difference then covers the measured pairs only.
Vectorised runs (int8 input and float64-with-NaN input) are interleaved with the loop, so the ratio compares times
taken under the same machine load. Peak memory is tracemalloc's peak over one vectorised call.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score

from benchmarks.agreement import bootstrap_pairwise_kappa, pairwise_kappa
from perf.result import Result

N_RATERS = 20
N_PERSONAS = 1_586
ITEMS_PER_PERSONA = 200
N_ITEMS = N_PERSONAS * ITEMS_PER_PERSONA  # 317,200
MISSING_SHARE = 0.10
SKLEARN_BUDGET_S = 60.0
INTERLEAVE = 10  # a vectorised run of each input every this many sklearn pairs
BOOTSTRAP_RESAMPLES = 1_000
NAME = "agreement"


def make_ratings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """int8 raters x items matrix (0 chosen, 1 rejected, 2 abstain, -1 missing) and each item's persona."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=N_ITEMS, p=[0.55, 0.40, 0.05])
    reliability = rng.uniform(0.3, 0.9, size=(N_RATERS, 1))
    noise = rng.choice(3, size=(N_RATERS, N_ITEMS), p=[0.5, 0.45, 0.05])
    ratings = np.where(rng.random((N_RATERS, N_ITEMS)) < reliability, truth, noise).astype(np.int8)
    ratings[rng.random(ratings.shape) < MISSING_SHARE] = -1
    personas = np.repeat(np.arange(N_PERSONAS), ITEMS_PER_PERSONA)
    return ratings, personas


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def interleaved(ratings: np.ndarray, floats: np.ndarray) -> dict[str, Any]:
    """The sklearn loop pair by pair, with a vectorised run of each input every ``INTERLEAVE`` pairs.

    Interleaving makes both sides see the same machine load (the CI box is shared), so the ratio is fair even when
    the absolute times drift. Returns sklearn's kappa per measured pair, its total seconds (extrapolated past the
    budget), the vectorised medians and the last vectorised results.
    """
    pairs = list(itertools.combinations(range(ratings.shape[0]), 2))
    vec_int = lambda: pairwise_kappa(ratings, missing=-1)  # noqa: E731
    vec_float = lambda: pairwise_kappa(floats)  # noqa: E731
    result_int, result_float = vec_int(), vec_float()  # warm-up
    int_times: list[float] = []
    float_times: list[float] = []
    sklearn_times: list[float] = []
    reference: dict[tuple[int, int], float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single-label pairs warn; none are expected here
        for index, (a, b) in enumerate(pairs):
            if index % INTERLEAVE == 0:
                seconds, result_int = timed(vec_int)
                int_times.append(seconds)
                seconds, result_float = timed(vec_float)
                float_times.append(seconds)
            started = time.perf_counter()
            both = (ratings[a] != -1) & (ratings[b] != -1)
            reference[a, b] = float(cohen_kappa_score(ratings[a][both], ratings[b][both]))
            sklearn_times.append(time.perf_counter() - started)
            if sum(sklearn_times) > SKLEARN_BUDGET_S:
                break
    return {
        "reference": reference,
        "sklearn_s": statistics.fmean(sklearn_times) * len(pairs),
        "measured": len(sklearn_times),
        "int_s": statistics.median(int_times),
        "float_s": statistics.median(float_times),
        "runs": len(int_times),
        "result_int": result_int,
        "result_float": result_float,
    }


def peak_memory(call: Callable[[], Any]) -> float:
    """Peak bytes allocated during one call (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def max_difference(kappa: np.ndarray, reference: dict[tuple[int, int], float]) -> float:
    worst = 0.0
    for (a, b), expected in reference.items():
        ours = float(kappa[a, b])
        if np.isnan(ours) or np.isnan(expected):
            if np.isnan(ours) != np.isnan(expected):
                return float("inf")
            continue
        worst = max(worst, abs(ours - expected))
    return worst


def run() -> list[Result]:
    ratings, personas = make_ratings()
    floats = np.where(ratings == -1, np.nan, ratings.astype(np.float64))
    shape = f"{N_RATERS}x{N_ITEMS:,}"
    n_pairs = N_RATERS * (N_RATERS - 1) // 2

    peak = peak_memory(lambda: pairwise_kappa(ratings, missing=-1))
    m = interleaved(ratings, floats)
    diff = max(
        max_difference(m["result_int"].kappa, m["reference"]), max_difference(m["result_float"].kappa, m["reference"])
    )
    speedup = m["sklearn_s"] / m["int_s"]
    speedup_float = m["sklearn_s"] / m["float_s"]
    measured = m["measured"]
    sk_note = (
        f"all {n_pairs} pairs measured, {m['sklearn_s'] / n_pairs * 1000:.0f} ms a pair"
        if measured == n_pairs
        else f"{measured} of {n_pairs} pairs measured in {SKLEARN_BUDGET_S:.0f} s, rest extrapolated per pair"
    )

    started = time.perf_counter()
    boot = bootstrap_pairwise_kappa(ratings, personas, missing=-1, n_resamples=BOOTSTRAP_RESAMPLES, seed=0)
    boot_s = time.perf_counter() - started
    widest = float(np.nanmax(boot.high - boot.low))

    return [
        Result(
            NAME,
            f"pairwise kappa {shape}, vectorised",
            m["int_s"],
            "s",
            note=f"median of {m['runs']} runs interleaved with the sklearn loop; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        ),
        Result(NAME, f"pairwise kappa {shape}, sklearn loop", m["sklearn_s"], "s", note=sk_note),
        Result(
            NAME,
            "speedup vs sklearn loop",
            speedup,
            "x",
            ">= 100",
            speedup >= 100,
            "int8 labels, -1 = missing; encoding included",
        ),
        Result(
            NAME,
            "speedup, float input (NaN = missing)",
            speedup_float,
            "x",
            note=f"same matrix as float64 with NaN: {m['float_s'] * 1000:.0f} ms",
        ),
        Result(
            NAME,
            "max |kappa - sklearn|",
            diff,
            "",
            "<= 1e-12",
            diff <= 1e-12,
            f"over {measured} pairs, both inputs",
        ),
        Result(
            NAME,
            "peak memory, vectorised",
            peak / 2**20,
            "MiB",
            note=f"tracemalloc; the int8 input itself is {ratings.nbytes / 2**20:.1f} MiB",
        ),
        Result(
            NAME,
            f"cluster bootstrap, {BOOTSTRAP_RESAMPLES} resamples",
            boot_s,
            "s",
            note=f"all {n_pairs} pairs, {N_PERSONAS:,} personas resampled; widest 95% CI {widest:.3f}",
        ),
    ]
