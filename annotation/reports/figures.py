"""The report's figures, drawn server-side with matplotlib's object API (Agg canvas; no pyplot global state) from
a stored report's data, as PNG or SVG. Undefined values are drawn as hatched "undefined" cells, never as 0."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from core.report_kit import FIGURE_FORMATS, figure_cached, figure_empty


def _heatmap(fig: Figure, matrix: dict[str, Any], title: str) -> None:
    """Upper triangle of a kappa matrix (like figure 6 of the PERSONA paper), each cell with kappa and n."""
    names = matrix["raters"]
    size = len(names)
    ax = fig.add_subplot()
    cmap = ax.imshow([[0.0]], cmap="RdYlGn", vmin=-1, vmax=1).get_cmap()
    ax.images[0].remove()
    for a in range(size):
        for b in range(a + 1, size):
            kappa, n = matrix["kappa"][a][b], matrix["n"][a][b]
            if kappa is None:
                ax.add_patch(_cell(b, a, "white", hatch="//"))
                text = f"undefined\nn={n}"
            else:
                ax.add_patch(_cell(b, a, cmap((kappa + 1) / 2)))
                text = f"{kappa:.2f}\nn={n}"
            ax.text(b, a, text, ha="center", va="center", fontsize=7)
    ax.set_xlim(0.5, size - 0.5)
    ax.set_ylim(size - 1.5, -0.5)
    ax.set_xticks(range(1, size), names[1:], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(size - 1), names[:-1], fontsize=8)
    ax.set_title(title)
    mappable = ax.scatter([], [], c=[], cmap="RdYlGn", vmin=-1, vmax=1)
    fig.colorbar(mappable, ax=ax, label="Cohen's kappa")


def _cell(x: int, y: int, color: Any, hatch: str | None = None) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=color, edgecolor="grey", hatch=hatch, linewidth=0.5)


def kappa_heatmap(fig: Figure, report: dict[str, Any]) -> None:
    if len(report["matrix"]["raters"]) < 2:
        figure_empty(fig, "Run a judge on this study to compare it with the human majority.")
        return
    _heatmap(fig, report["matrix"], "Cohen's kappa: majority of all raters and each judge in each A/B order")


def model_matrix(fig: Figure, report: dict[str, Any]) -> None:
    if len(report["model_matrix"]["raters"]) < 2:
        figure_empty(fig, "Model-model agreement needs at least two judges.")
        return
    _heatmap(fig, report["model_matrix"], "Model-model kappa (each question in each A/B order)")


def persona_histograms(fig: Figure, report: dict[str, Any]) -> None:
    """Per judge: the distribution of per-persona kappa against the human majority (figure 7 of the paper)."""
    by_judge: dict[str, list[float | None]] = defaultdict(list)
    for row in report["tables"]["persona_kappa"]["rows"]:
        by_judge[row["judge"]].append(row["kappa"])
    if not by_judge:
        figure_empty(fig, "No judge has judged this study's questions yet.")
        return
    columns = min(3, len(by_judge))
    rows = math.ceil(len(by_judge) / columns)
    fig.set_size_inches(4 * columns, 3 * rows)
    for index, (judge, values) in enumerate(sorted(by_judge.items()), start=1):
        ax = fig.add_subplot(rows, columns, index)
        defined = [v for v in values if v is not None]
        ax.hist(defined, bins=[i / 10 for i in range(-10, 11)], color="#4c72b0", edgecolor="white")
        ax.set_xlim(-1, 1)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1])
        if not defined:
            ax.text(0, 0.5, "every kappa undefined", ha="center", va="center", transform=ax.get_xaxis_transform())
            ax.set_yticks([])
        ax.set_title(f"{judge}\n{len(defined)} personas, {len(values) - len(defined)} undefined", fontsize=9)
        ax.set_xlabel("kappa vs human majority", fontsize=8)
    fig.suptitle("Per-persona kappa")


def human_baseline(fig: Figure, report: dict[str, Any]) -> None:
    rows = report["tables"]["human_pairs"]["rows"]
    if not rows:
        figure_empty(fig, "Human-human agreement needs two raters of the same persona.")
        return
    values = [row["kappa"] for row in rows if row["kappa"] is not None]
    ax = fig.add_subplot()
    ax.hist(values, bins=[i / 10 for i in range(-10, 11)], color="#55a868", edgecolor="white")
    ax.set_xlim(-1, 1)
    ax.set_xlabel("kappa between two raters of the same persona")
    ax.set_ylabel("pairs of raters")
    ax.set_title(f"Human-human baseline: {len(values)} pairs, {len(rows) - len(values)} undefined")


def position_bias(fig: Figure, report: dict[str, Any]) -> None:
    rows = report["tables"]["position_bias"]["rows"]
    if not rows:
        figure_empty(fig, "No judge has judged this study's questions yet.")
        return
    ax = fig.add_subplot()
    names = [row["judge"] for row in rows]
    shares = [row["share_first"] if row["share_first"] is not None else 0 for row in rows]
    bars = ax.barh(names, shares, color="#c44e52")
    for bar, row in zip(bars, rows, strict=True):
        # The counts are the table's own columns (position_bias_table): decisive replies and questions.
        label = "undefined" if row["share_first"] is None else f"{row['share_first']:.2f}"
        ax.text(
            bar.get_width() + 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{label} (n={row['n_replies']} replies, {row['n_items']} questions)",
            va="center",
            fontsize=8,
        )
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1.45)
    ax.set_xlabel("share of decisive replies picking the answer shown first")
    ax.set_title("Position bias")


def coverage(fig: Figure, report: dict[str, Any]) -> None:
    by_judge: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report["tables"]["coverage"]["rows"]:
        by_judge[row["judge"]].append(row)
    if not by_judge:
        figure_empty(fig, "No judge gave a confidence on this study's questions.")
        return
    ax = fig.add_subplot()
    for judge, rows in sorted(by_judge.items()):
        ax.plot([r["coverage"] for r in rows], [r["agreement"] for r in rows], marker=".", label=judge)
    ax.axhline(0.8, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of items, most confident first)")
    ax.set_ylabel("agreement with the human majority")
    ax.legend(fontsize=8)
    ax.set_title("Agreement vs coverage")


FIGURES: dict[str, tuple[str, Callable[[Figure, dict[str, Any]], None]]] = {
    "kappa-heatmap": ("Kappa heatmap (upper triangle)", kappa_heatmap),
    "persona-kappa": ("Per-persona kappa histograms", persona_histograms),
    "human-baseline": ("Human-human baseline", human_baseline),
    "model-matrix": ("Model-model kappa", model_matrix),
    "position-bias": ("Position bias", position_bias),
    "coverage": ("Agreement vs coverage", coverage),
}


def figure_render(*, report: dict[str, Any], name: str, fmt: str) -> bytes:
    """One figure of a computed (non-empty) report as PNG or SVG bytes, cached per report fingerprint (the kit's
    cache). Raises KeyError for unknown names or formats."""
    if name not in FIGURES or fmt not in FIGURE_FORMATS:
        raise KeyError(f"{name}.{fmt}")
    _, draw = FIGURES[name]

    def figure() -> Figure:
        size = max(6.0, 0.55 * len(report["matrix"]["raters"]) + 3) if name == "kappa-heatmap" else 7.0
        fig = Figure(figsize=(size, size * 0.8), layout="constrained")
        draw(fig, report)
        return fig

    scope = f"study:{report.get('study_id')}"
    return figure_cached(scope=scope, version=report.get("fingerprint") or "", name=name, fmt=fmt, draw=figure)
