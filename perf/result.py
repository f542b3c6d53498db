from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    benchmark: str
    metric: str
    value: float
    unit: str
    target: str = ""  # e.g. ">= 0.9"
    passed: bool | None = None
    note: str = ""


def format_table(results: list[Result]) -> str:
    header = ("benchmark", "metric", "value", "unit", "target", "ok", "note")
    rows = [
        (
            r.benchmark,
            r.metric,
            f"{r.value:.4g}",
            r.unit,
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.passed],
            r.note,
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)])
