"""A run's (and a comparison's) figures, drawn server-side with matplotlib's object API from the results tables,
as PNG or SVG, in the style of the study reports. Undefined values are left out and said so, never drawn as 0."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from core.report_kit import FIGURE_FORMATS, figure_cached, figure_empty

COLOURS = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd", "#dd8452", "#937860"]


def pass_rates(fig: Figure, results: dict[str, Any]) -> None:
    """Pass rate per model x method (or run x model x method on the comparison page) with its 95 % interval."""
    rows = [row for row in results["tables"]["pass_rates"]["rows"] if row["pass_rate"] is not None]
    if not rows:
        figure_empty(fig, "No answer has been judged yet.")
        return
    ax = fig.add_subplot()
    labels = [" · ".join(str(row[key]) for key in ("run", "model", "method") if key in row) for row in rows]
    methods = sorted({row["method"] for row in rows})
    colours = {method: COLOURS[i % len(COLOURS)] for i, method in enumerate(methods)}
    positions = range(len(rows))
    estimates = [row["pass_rate"] for row in rows]
    errors = [
        [row["pass_rate"] - (row["ci_low"] or row["pass_rate"]) for row in rows],
        [(row["ci_high"] or row["pass_rate"]) - row["pass_rate"] for row in rows],
    ]
    ax.barh(positions, estimates, xerr=errors, color=[colours[row["method"]] for row in rows], capsize=3)
    for y, row in zip(positions, rows, strict=True):
        ax.text(1.01, y, f"{row['pass_rate']:.2f} (n={row['n']})", va="center", fontsize=8)
    ax.set_yticks(list(positions), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    ax.set_xlabel("pass rate (critic: no revision needed), 95 % persona-clustered bootstrap interval")
    ax.set_title("Pass rate per model and method")


def pass_at_k(fig: Figure, results: dict[str, Any]) -> None:
    curves: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in results["tables"]["pass_at_k"]["rows"]:
        if row["pass_at_k"] is not None:
            name = " · ".join(str(row[key]) for key in ("run", "model", "method") if key in row)
            curves[name].append((row["k"], row["pass_at_k"]))
    if not curves:
        figure_empty(fig, "No answer has been judged yet.")
        return
    ax = fig.add_subplot()
    for index, (name, points) in enumerate(sorted(curves.items())):
        ax.plot([k for k, _ in points], [v for _, v in points], marker=".", label=name, color=COLOURS[index % 8])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (unbiased estimator)")
    ax.legend(fontsize=7)
    ax.set_title("pass@k per model and method")


def summary_dropped(fig: Figure, results: dict[str, Any]) -> None:
    table = results["tables"].get("summary_dropped")
    rows = [row for row in (table or {"rows": []})["rows"] if row["share_dropped"] is not None]
    if not rows:
        figure_empty(fig, "No demographic summary has been analysed yet.")
        return
    ax = fig.add_subplot()
    ax.barh([row["attribute"] for row in rows], [row["share_dropped"] for row in rows], color="#8172b2")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of summaries that dropped the attribute (of those whose persona has it)")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Summary analysis: attributes dropped by demographic summaries")


def loo_kappa(fig: Figure, results: dict[str, Any]) -> None:
    """Figure 5: per attribute, the box plot of kappa between each persona's judgments and its twin's."""
    by_attribute: dict[str, list[float]] = defaultdict(list)
    undefined: dict[str, int] = defaultdict(int)
    for row in results["tables"]["loo_kappa"]["rows"]:
        if row["kappa"] is None:
            undefined[row["attribute"]] += 1
        else:
            by_attribute[row["attribute"]].append(row["kappa"])
    names = sorted(set(by_attribute) | set(undefined))
    if not by_attribute:
        figure_empty(fig, "No twin has been judged yet (or every kappa is undefined).")
        return
    ax = fig.add_subplot()
    ax.boxplot([by_attribute.get(name, []) for name in names], orientation="horizontal")
    # How many twins each box is drawn from: those with a defined kappa, of all the attribute's twins.
    counts = {n: (len(by_attribute.get(n, [])), len(by_attribute.get(n, [])) + undefined[n]) for n in names}
    labels = [f"{n} ({k} of {total} twins)" if k < total else f"{n} ({k} twins)" for n, (k, total) in counts.items()]
    ax.set_yticks(range(1, len(names) + 1), labels)
    ax.set_xlim(-1.05, 1.05)
    ax.axvline(0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("Cohen's kappa, persona vs twin with the attribute added (lower = more influence)")
    ax.set_title("Leave-one-out attribute influence")


FIGURES: dict[str, tuple[str, Callable[[Figure, dict[str, Any]], None]]] = {
    "pass-rates": ("Pass rate per model and method", pass_rates),
    "pass-at-k": ("pass@k curves", pass_at_k),
    "summary-dropped": ("Summary analysis: dropped attributes", summary_dropped),
    "loo-kappa": ("Leave-one-out: kappa per attribute", loo_kappa),
}


def figure_names(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures a results dict can draw (those whose table it has)."""
    needs = {
        "pass-rates": "pass_rates",
        "pass-at-k": "pass_at_k",
        "summary-dropped": "summary_dropped",
        "loo-kappa": "loo_kappa",
    }
    return [(name, title) for name, (title, _) in FIGURES.items() if needs[name] in results["tables"]]


def figure_render(*, results: dict[str, Any], name: str, fmt: str) -> bytes:
    """One figure as PNG or SVG bytes, cached (the kit's cache) by a digest of the results tables it is drawn from;
    KeyError when unknown."""
    if name not in FIGURES or fmt not in FIGURE_FORMATS:
        raise KeyError(f"{name}.{fmt}")
    _, draw = FIGURES[name]

    def figure() -> Figure:
        rows = len(results["tables"].get("pass_rates", {"rows": []})["rows"])
        height = max(4.5, 0.35 * rows + 2) if name == "pass-rates" else 5.5
        fig = Figure(figsize=(8, height), layout="constrained")
        draw(fig, results)
        return fig

    digest = hashlib.sha256(json.dumps(results["tables"], sort_keys=True, default=str).encode()).hexdigest()
    return figure_cached(scope="bench", version=digest, name=name, fmt=fmt, draw=figure)
