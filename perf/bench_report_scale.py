"""The study report at scale on PostgreSQL: the report job's time and peak memory on the paper-size study and on one
a tenth of its size (``perf.paper_study``: built once, shared with ``bench_study_scale``), then on the full study
the report page, one table's CSV download and one figure — each beside its target.

Targets: the report job ≤ 300 MB peak (the worker reached 1.14 GB at 1,586 personas when every rater had a list as long
as the study, then 395 MB while it held every table whole) and linear in the answers (its memory above the process's
own start, per answer, no higher on the full study than on the tenth); a table download ≤ 100 ms (it was 0.48 s:
every request hashed every answer and loaded the whole stored report); the report page and a figure ≤ 300 ms once
computed (a figure drawn once, then from the cache). On SQLite nothing is measured: the rows say so.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from perf.paper_study import ANALYST, paper_studies, peak_mb, phase
from perf.result import Result

RATERS = 4
QUESTIONS = 10
NAME = "report_scale"
PEAK_MB_TARGET = 300.0
TABLE_MS_TARGET = 100.0
PAGE_MS_TARGET = 300.0


def _report(study_id: int) -> dict[str, object]:
    """The report job's work, in a process of its own (a worker's)."""
    from annotation.models import Study
    from annotation.reports.services import report_refresh

    study = Study.objects.get(pk=study_id)
    before = peak_mb()
    started = time.perf_counter()
    report_refresh(study=study)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "before_mb": before}


def _serve(study_id: int) -> dict[str, object]:
    """The web side after the report is computed: the page, one table download, one figure (cold, then cached)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=ANALYST))

    def timed(url: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        response = client.get(url)
        return (time.perf_counter() - started) * 1000, response.status_code, len(response.content)

    page = reverse("study-report", args=[study_id])
    table = reverse("study-report-table", args=[study_id, "judges", "csv"])
    figure = reverse("study-report-figure", args=[study_id, "persona-kappa", "png"])
    timed(page)  # warm-up: templates, URL resolver
    result: dict[str, object] = {"page": min(timed(page) for _ in range(3))}
    result["table"] = min(timed(table) for _ in range(5))
    result["figure_cold"] = timed(figure)
    result["figure"] = min(timed(figure) for _ in range(3))
    return result


def run() -> list[Result]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return [
            Result(
                NAME,
                "report job peak memory",
                0,
                "MB",
                f"<= {PEAK_MB_TARGET:.0f}",
                None,
                "skipped: needs PostgreSQL (set DATABASE_URL)",
            )
        ]
    studies = paper_studies()
    small, full = studies.small, studies.full
    reports = {}
    for size in (small, full):
        reports[size["study"]] = phase(studies.env, __name__, "report", size["study"])
        print(f"  report of {size['answers']} answers: {reports[size['study']]}", file=sys.stderr, flush=True)
    served = phase(studies.env, __name__, "serve", full["study"])
    report, tenth = reports[full["study"]], reports[small["study"]]
    at = (
        f"measured at {studies.personas} personas x {RATERS} raters x {QUESTIONS} questions + 1 check: "
        f"{full['participants']} participants, {full['answers']} answers, {full['judgments']} judgments"
    )

    def per_answer(measured: dict[str, Any], size: dict[str, Any]) -> float:
        return (float(measured["peak_mb"]) - float(measured["before_mb"])) * 1024 / size["answers"]

    growth = per_answer(report, full) / per_answer(tenth, small)
    page_ms, page_status, _ = served["page"]
    table_ms, table_status, table_bytes = served["table"]
    cold_ms, _, _ = served["figure_cold"]
    figure_ms, figure_status, _ = served["figure"]
    peak = float(report["peak_mb"])
    return [
        Result(NAME, "report job time", float(report["seconds"]), "s", "", None, at),
        Result(
            NAME,
            "report job peak memory (process RSS)",
            peak,
            "MB",
            f"<= {PEAK_MB_TARGET:.0f}",
            peak <= PEAK_MB_TARGET,
            f"{report['before_mb']:.0f} MB before the report (Django + libraries); scipy.stats, imported by the "
            "position-bias test, is part of the rest",
        ),
        Result(
            NAME,
            "report job memory per answer, full ÷ tenth",
            growth,
            "x",
            "<= 1",
            growth <= 1,
            f"{per_answer(report, full):.2f} KB vs {per_answer(tenth, small):.2f} KB per answer above the process's "
            f"start ({full['answers']} vs {small['answers']} answers; the tenth took {float(tenth['seconds']):.1f} s, "
            f"peak {float(tenth['peak_mb']):.0f} MB)",
        ),
        Result(
            NAME,
            "report page",
            page_ms,
            "ms",
            f"<= {PAGE_MS_TARGET:.0f}",
            page_status == 200 and page_ms <= PAGE_MS_TARGET,
            f"HTTP {page_status}",
        ),
        Result(
            NAME,
            "one table CSV download",
            table_ms,
            "ms",
            f"<= {TABLE_MS_TARGET:.0f}",
            table_status == 200 and table_ms <= TABLE_MS_TARGET,
            f"HTTP {table_status}, {table_bytes} bytes",
        ),
        Result(
            NAME,
            "one figure (cached)",
            figure_ms,
            "ms",
            f"<= {PAGE_MS_TARGET:.0f}",
            figure_status == 200 and figure_ms <= PAGE_MS_TARGET,
            f"first request (drawn) {cold_ms:.0f} ms",
        ),
    ]
