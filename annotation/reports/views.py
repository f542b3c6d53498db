"""The study report page (Analyst, Coordinator), its live status partial, downloads, and starting judges/recomputes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from annotation.models import Study
from annotation.reports.figures import FIGURES, figure_render
from annotation.reports.services import (
    ReportState,
    StoredTables,
    report_ensure,
    report_state,
    report_stored,
    study_has_completed_participants,
)
from annotation.selectors import study_items
from benchmarks.judging.models import Choice, Judge, Judgment, Order
from benchmarks.judging.services import judge_run_start
from core.htmx import HtmxHttpRequest
from core.report_kit import FIGURE_FORMATS, attachment, figure_message, figure_response, table_display, table_response

VIEW_REPORT = "annotation.view_reportsnapshot"
RUN_JUDGE = "benchmarks.run_judges"
TABLE_ORDER = (
    "loo",
    "judges",
    "human_baseline",
    "raters",
    "pairwise",
    "persona_kappa",
    "human_pairs",
    "human_vs_judges",
    "model_model",
    "position_bias",
    "confusion",
    "coverage",
)
# A table longer than this shows its first rows on the page (a paper-size study has 10,000s of human pairs; rendering
# them all took seconds): the CSV and JSON downloads have every row.
PAGE_ROWS = 200
# Download only (too long for the page): "loo_pairs", every (human, question) pair the headline is computed from.


def _judge_rows(study: Study) -> list[dict[str, object]]:
    """Per judge: replies stored on this study's items, by order and outcome (invalid replies shown, not hidden)."""
    items = study_items(study=study)
    wanted = {(item.persona_id, item.pair_id) for item in items}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    rows = Judgment.objects.filter(
        persona_id__in={p for p, _ in wanted}, pair_id__in={q for _, q in wanted}
    ).values_list("judge_id", "persona_id", "pair_id", "order", "choice")
    for judge_id, persona_id, pair_id, order, choice in rows:
        if (persona_id, pair_id) in wanted:
            counts[judge_id][order] += 1
            counts[judge_id][choice] += 1
    result = []
    for judge in Judge.objects.select_related("endpoint"):
        tally = counts.get(judge.pk, Counter())
        result.append(
            {
                "judge": judge,
                "expected": 2 * judge.samples * len(items),
                "ab": tally[Order.CHOSEN_FIRST],
                "ba": tally[Order.REJECTED_FIRST],
                "abstain": tally[Choice.ABSTAIN],
                "invalid": tally[Choice.INVALID],
            }
        )
    return result


def _state_context(state: ReportState) -> dict[str, object]:
    return {"state": state, "job": state.job, "computing": state.job is not None and state.job.is_active}


def _report_status(request: HtmxHttpRequest, study: Study) -> HttpResponse:
    state = report_state(study=study)
    if state.fresh and request.GET.get("was") != state.fingerprint:
        return HttpResponseClientRefresh()
    return render(
        request, "annotation/reports/report.html#status", {"study": study, **_state_context(state), "poll": True}
    )


@permission_required(VIEW_REPORT, raise_exception=True)
@require_GET
def study_report(request: HtmxHttpRequest, study_id: int) -> HttpResponse:
    """A study's report; for htmx, the freshness banner it polls while a recompute runs, which asks htmx to reload
    the page once the report it shows is no longer the newest."""
    study = get_object_or_404(Study, pk=study_id)
    if request.htmx:
        return _report_status(request, study)
    context: dict[str, object] = {
        "study": study,
        "judges": _judge_rows(study),
        "can_run_judges": request.user.has_perm(RUN_JUDGE),
    }
    if not study_has_completed_participants(study=study):
        return render(request, "annotation/reports/report.html", {**context, "empty": True})
    state = report_ensure(study=study, started_by=request.user)
    data = state.data
    if data and not data.get("empty"):
        tables = data["tables"]
        if isinstance(tables, StoredTables):
            tables.load(TABLE_ORDER)  # one query for the page's tables (the long loo_pairs stays in the database)
        context["tables"] = [table_display(name, tables[name], max_rows=PAGE_ROWS) for name in TABLE_ORDER]
        context["figures"] = [(name, title) for name, (title, _) in FIGURES.items()]
        context["summary"] = data["summary"]
    return render(request, "annotation/reports/report.html", {**context, **_state_context(state), "empty": False})


@permission_required(VIEW_REPORT, raise_exception=True)
@require_GET
def study_report_table(request: HttpRequest, study_id: int, name: str, fmt: str) -> HttpResponse:
    data, missing = _report_data(study_id)
    if data is None:
        return _no_report(missing)
    return table_response(data["tables"].get(name), fmt, prefix=f"study-{study_id}", name=name)


@permission_required(VIEW_REPORT, raise_exception=True)
@require_GET
def study_report_figure(request: HttpRequest, study_id: int, name: str, fmt: str) -> HttpResponse:
    data, missing = _report_data(study_id)
    if name not in FIGURES or fmt not in FIGURE_FORMATS:
        raise Http404("No such figure.")
    # Without a report, the image says why (an <img> shows a picture, not an error page).
    content = figure_render(report=data, name=name, fmt=fmt) if data else figure_message(message=missing, fmt=fmt)
    download = bool(request.GET.get("download"))
    return figure_response(content, fmt, prefix=f"study-{study_id}", name=name, download=download)


@permission_required(VIEW_REPORT, raise_exception=True)
@require_GET
def study_report_json(request: HttpRequest, study_id: int) -> HttpResponse:
    data, missing = _report_data(study_id, full=True)
    if data is None:
        return _no_report(missing)
    response = HttpResponse(json.dumps(data, indent=1, allow_nan=False), content_type="application/json")
    return attachment(response, f"study-{study_id}-report.json")


@permission_required(RUN_JUDGE, raise_exception=True)
@require_POST
def study_report_judge(request: HttpRequest, study_id: int) -> HttpResponse:
    """Run a judge on the study's questions, both orders, as a job; stored replies are skipped."""
    study = get_object_or_404(Study, pk=study_id)
    judge = Judge.objects.filter(pk=request.POST.get("judge") or 0).first()
    items = [(item.persona_id, item.pair_id) for item in study_items(study=study)]
    if judge is None or not items:
        messages.error(request, "Pick a judge; the study needs pair questions.")
        return redirect("study-report", study_id=study.pk)
    job = judge_run_start(judge=judge, items=items, started_by=request.user, label=f"study {study.pk}")
    messages.success(request, f"Judge {judge.name} on {len(items)} questions x 2 orders: job #{job.pk} started.")
    return redirect("study-report", study_id=study.pk)


def _report_data(study_id: int, *, full: bool = False) -> tuple[dict[str, Any] | None, str]:
    """The stored report (fresh or, while a recompute runs, the previous one; every table read only with ``full``),
    or None and why there is none yet; 404 for an unknown study."""
    study = get_object_or_404(Study, pk=study_id)
    state = report_stored(study=study)
    data = state.full_data() if full else state.data
    if data and not data.get("empty"):
        return data, ""
    if not study_has_completed_participants(study=study):
        return None, "No completed participants yet: this study has no report."
    return None, "The report is being computed: reload the report page in a moment."


def _no_report(reason: str) -> HttpResponse:
    return HttpResponseNotFound(reason, content_type="text/plain; charset=utf-8")
