"""Server-side SVG bar charts of persona vs census shares (matplotlib Figure objects; no JavaScript needed)."""

from __future__ import annotations

import io
import textwrap

# Figure without pyplot: no global backend state, safe in threaded web workers.
from matplotlib.figure import Figure

from personas.census_comparison import AttributeComparison

MAX_BARS = 12
PERSONA_COLOUR, CENSUS_COLOUR = "#0b5cad", "#b0b7bf"


def _top(comparison: AttributeComparison) -> tuple[list[str], list[float], list[float]]:
    rows = list(zip(comparison.categories, comparison.persona_shares, comparison.census_shares, strict=True))
    if len(rows) > MAX_BARS:
        head, tail = rows[: MAX_BARS - 1], rows[MAX_BARS - 1 :]
        rows = [*head, ("All other categories", sum(r[1] for r in tail), sum(r[2] for r in tail))]
    labels = [textwrap.shorten(label, 48, placeholder="…") for label, _p, _c in rows]
    return labels, [r[1] for r in rows], [r[2] for r in rows]


def comparison_svg(comparison: AttributeComparison, *, title: str) -> str:
    """Horizontal paired bars (personas, census) per category, largest census share on top."""
    labels, persona, census = _top(comparison)
    height = 1.2 + 0.42 * max(1, len(labels))
    figure = Figure(figsize=(8, height))
    axes = figure.subplots()
    positions = list(range(len(labels)))
    axes.barh(
        [p - 0.2 for p in positions], persona, height=0.4, color=PERSONA_COLOUR, label=f"Personas (n={comparison.n})"
    )
    axes.barh([p + 0.2 for p in positions], census, height=0.4, color=CENSUS_COLOUR, label="Census (weighted)")
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("Share")
    axes.set_title(f"{title} — TVD {comparison.tvd:.3f}", fontsize=10)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue()
