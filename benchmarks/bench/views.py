"""PERSONA Bench pages: runs, a new-run form, a run's results (live progress, tables, figures, downloads), its raw
answers, and a comparison across runs. Analysts read; coordinators start, cancel and resume runs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from benchmarks.bench.config import BenchConfigError, bench_config_parse
from benchmarks.bench.figures import figure_names, figure_render
from benchmarks.bench.loo import LOO_ANSWER_COLUMNS, loo_answer_rows
from benchmarks.bench.models import BenchAnswer, BenchRun, Evaluation, Method, Verdict
from benchmarks.bench.results import bench_results_cached, comparison_results, filter_parse
from benchmarks.bench.sampling import persona_matches
from benchmarks.bench.services import bench_run_create, bench_run_start
from core.csv_export import CsvDictWriter, CsvWriter
from core.htmx import HtmxHttpRequest
from core.jobs import JobError, job_cancel
from core.report_kit import FIGURE_FORMATS, attachment, figure_response, table_response

VIEW = "benchmarks.view_benchrun"
START = "benchmarks.add_benchrun"
PAPER_CONFIG = Path(__file__).parent / "configs" / "paper_main.json"


def endpoint_map_parse(text: str) -> dict[str, str]:
    """``placeholder=endpoint`` pairs, one per line or comma-separated; raises ValueError on a malformed line."""
    mapping = {}
    for part in (p.strip() for chunk in text.splitlines() for p in chunk.split(",")):
        if not part:
            continue
        name, sep, endpoint = part.partition("=")
        if not sep or not name.strip() or not endpoint.strip():
            raise ValueError(f"{part!r} is not placeholder=endpoint")
        mapping[name.strip()] = endpoint.strip()
    return mapping


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_list(request: HttpRequest) -> HttpResponse:
    runs = BenchRun.objects.select_related("job", "created_by")
    return render(request, "benchmarks/bench/run_list.html", {"runs": runs, "can_start": request.user.has_perm(START)})


@permission_required(START, raise_exception=True)
@require_http_methods(["GET", "POST"])
def bench_run_new(request: HttpRequest) -> HttpResponse:
    """Paste or edit a config (the paper's is the default) and map placeholder model names to endpoints."""
    config_text = request.POST.get("config") or PAPER_CONFIG.read_text()
    mapping_text = request.POST.get("endpoint_map", "")
    problems: list[str] = []
    if request.method == "POST":
        try:
            data = json.loads(config_text)
            config = bench_config_parse(data, endpoint_map=endpoint_map_parse(mapping_text))
        except json.JSONDecodeError as exc:
            problems = [f"the config is not valid JSON: {exc}"]
        except BenchConfigError as exc:
            problems = exc.problems
        except ValueError as exc:
            problems = [str(exc)]
        else:
            run = bench_run_create(config=config, created_by=request.user)
            job = bench_run_start(bench_run=run, started_by=request.user)
            messages.success(request, f"Bench run #{run.pk} started (job #{job.pk}).")
            return redirect("bench-run-detail", run_id=run.pk)
    context = {"config_text": config_text, "mapping_text": mapping_text, "problems": problems}
    return render(request, "benchmarks/bench/run_new.html", context, status=400 if problems else 200)


def _status_context(run: BenchRun) -> dict[str, Any]:
    job = run.job
    return {"run": run, "job": job, "active": job is not None and job.is_active}


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """A run's page; for htmx, the live progress block it polls while the job runs, which asks htmx to reload the
    page (with the results) once the job has ended."""
    run = get_object_or_404(BenchRun.objects.select_related("job"), pk=run_id)
    if request.htmx:
        status = _status_context(run)
        if not status["active"]:
            return HttpResponseClientRefresh()
        return render(request, "benchmarks/bench/run_detail.html#status", {**status, "poll": True})
    filter_text = request.GET.get("filter", "").strip()
    filters, error = None, ""
    if filter_text and run.evaluation == Evaluation.PERSONALIZATION:
        try:
            filters = filter_parse(filter_text)
        except ValueError as exc:
            error = str(exc)
    results = bench_results_cached(run=run, filters=filters)
    context = {
        **_status_context(run),
        "results": results,
        "tables": list(results["tables"].values()),
        "figures": figure_names(results),
        "filter_text": filter_text,
        "filter_error": error,
        "filter_query": f"?filter={filter_text}" if filters else "",
        "can_start": request.user.has_perm(START),
        "config_json": json.dumps(run.config, indent=1),
    }
    return render(request, "benchmarks/bench/run_detail.html", context, status=400 if error else 200)


@permission_required(START, raise_exception=True)
@require_POST
def bench_run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(BenchRun.objects.select_related("job"), pk=run_id)
    if run.job is not None and job_cancel(job=run.job):
        messages.success(request, "Run cancelled; what it stored is kept, and Resume continues from there.")
    else:
        messages.error(request, "This run is not running.")
    return redirect("bench-run-detail", run_id=run.pk)


@permission_required(START, raise_exception=True)
@require_POST
def bench_run_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(BenchRun.objects.select_related("job"), pk=run_id)
    try:
        job = bench_run_start(bench_run=run, started_by=request.user)
    except JobError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Run resumed (job #{job.pk}); stored answers and verdicts are kept.")
    return redirect("bench-run-detail", run_id=run.pk)


def _results_for(request: HttpRequest, run_id: int) -> tuple[BenchRun, dict[str, Any]]:
    run = get_object_or_404(BenchRun, pk=run_id)
    filters = None
    if (text := request.GET.get("filter", "").strip()) and run.evaluation == Evaluation.PERSONALIZATION:
        try:
            filters = filter_parse(text)
        except ValueError as exc:
            raise Http404(str(exc)) from exc
    return run, bench_results_cached(run=run, filters=filters)


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_json(request: HttpRequest, run_id: int) -> HttpResponse:
    run, results = _results_for(request, run_id)
    response = HttpResponse(json.dumps(results, indent=1, allow_nan=False), content_type="application/json")
    return attachment(response, f"bench-{run.pk}-results.json")


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_table(request: HttpRequest, run_id: int, name: str, fmt: str) -> HttpResponse:
    run, results = _results_for(request, run_id)
    return table_response(results["tables"].get(name), fmt, prefix=f"bench-{run.pk}", name=name)


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_figure(request: HttpRequest, run_id: int, name: str, fmt: str) -> HttpResponse:
    run, results = _results_for(request, run_id)
    if name not in dict(figure_names(results)) or fmt not in FIGURE_FORMATS:
        raise Http404("No such figure.")
    content = figure_render(results=results, name=name, fmt=fmt)
    return figure_response(
        content, fmt, prefix=f"bench-{run.pk}", name=name, download=bool(request.GET.get("download"))
    )


ANSWER_COLUMNS = [
    "position",
    "persona",
    "question",
    "model",
    "method",
    "sample",
    "answer",
    "intermediate",
    "verdict",
    "critic_reasoning",
    "personalization_critique",
    "helpfulness_critique",
    "critic_error",
    "dropped_attributes",
]


def _run_answers(request: HttpRequest, run: BenchRun) -> tuple[QuerySet[BenchAnswer], str]:
    """The run's answers filtered by the query string (model, method, verdict, text, persona filter); with an
    unreadable persona filter, no answers and the error to show."""
    params = request.GET
    answers = BenchAnswer.objects.filter(run=run).select_related("item__persona", "item__prompt", "endpoint")
    if model := params.get("model"):
        answers = answers.filter(endpoint__name=model)
    if (method := params.get("method")) in Method.values:
        answers = answers.filter(method=method)
    if (verdict := params.get("verdict")) in Verdict.values:
        answers = answers.filter(verdict=verdict)
    if text := params.get("q", "").strip():
        answers = answers.filter(Q(item__prompt__text__icontains=text) | Q(answer__icontains=text))
    if persona_filter := params.get("filter", "").strip():
        try:
            filters = filter_parse(persona_filter)
        except ValueError as exc:
            return BenchAnswer.objects.none(), str(exc)
        personas = run.items.values_list("persona_id", "persona__attributes")
        answers = answers.filter(item__persona_id__in={pk for pk, attrs in personas if persona_matches(attrs, filters)})
    return answers.order_by("item__position", "endpoint__name", "method", "sample"), ""


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_items(request: HttpRequest, run_id: int) -> HttpResponse:
    """The raw answers with their critiques, filterable by model, method, verdict and text."""
    run = get_object_or_404(BenchRun, pk=run_id)
    answers, error = _run_answers(request, run)
    page = Paginator(answers, 25).get_page(request.GET.get("page"))
    models = sorted(set(BenchAnswer.objects.filter(run=run).values_list("endpoint__name", flat=True)))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "run": run,
        "page": page,
        "models": models,
        "methods": Method.choices,
        "verdicts": Verdict.choices,
        "params": request.GET,
        "query": query.urlencode(),
        "error": error,
    }
    return render(request, "benchmarks/bench/run_items.html", context, status=400 if error else 200)


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_run_answers_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    """Every (filtered) answer with its persona, question and critique, as CSV; for a leave-one-out run, every
    twin's picks on every baseline answer (``loo_answer_rows``), the data its kappas are computed from."""
    run = get_object_or_404(BenchRun, pk=run_id)
    buffer = io.StringIO()
    if run.evaluation == Evaluation.LEAVE_ONE_OUT:
        table_writer = CsvDictWriter(buffer, fieldnames=LOO_ANSWER_COLUMNS)
        table_writer.writeheader()
        table_writer.writerows(loo_answer_rows(run=run))
    else:
        answers, error = _run_answers(request, run)
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        _bench_answers_write(CsvWriter(buffer), answers)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return attachment(response, f"bench-{run.pk}-answers.csv")


def _bench_answers_write(writer: CsvWriter, answers: QuerySet[BenchAnswer]) -> None:
    writer.writerow(ANSWER_COLUMNS)
    for row in answers.iterator(chunk_size=500):
        writer.writerow(
            [
                row.item.position,
                row.item.persona.public_id,
                row.item.prompt.text,
                row.endpoint.name,
                row.method,
                row.sample,
                row.answer,
                row.intermediate,
                row.verdict,
                row.critic_reasoning,
                row.personalization_critique,
                row.helpfulness_critique,
                row.critic_error,
                json.dumps(row.dropped_attributes),
            ]
        )


def _compared(request: HttpRequest) -> list[BenchRun]:
    ids = [int(i) for i in request.GET.getlist("runs") if i.isdigit()]
    return list(BenchRun.objects.filter(pk__in=ids, evaluation=Evaluation.PERSONALIZATION).order_by("pk"))


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_compare(request: HttpRequest) -> HttpResponse:
    runs = _compared(request)
    if len(runs) < 2:
        messages.error(request, "Pick at least two personalization runs to compare.")
        return redirect("bench-run-list")
    results = comparison_results(runs=runs)
    query = "&".join(f"runs={run.pk}" for run in runs)
    context = {
        "runs": runs,
        "tables": list(results["tables"].values()),
        "query": query,
        "figures": figure_names(results),
    }
    return render(request, "benchmarks/bench/compare.html", context)


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_compare_figure(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    runs = _compared(request)
    results = comparison_results(runs=runs)
    if len(runs) < 2 or name not in dict(figure_names(results)) or fmt not in FIGURE_FORMATS:
        raise Http404("No such figure.")
    content = figure_render(results=results, name=name, fmt=fmt)
    return figure_response(content, fmt, prefix="bench-compare", name=name, download=bool(request.GET.get("download")))


@permission_required(VIEW, raise_exception=True)
@require_GET
def bench_compare_table(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    runs = _compared(request)
    results = comparison_results(runs=runs)
    if len(runs) < 2:
        raise Http404("No such table.")
    return table_response(results["tables"].get(name), fmt, prefix="bench-compare", name=name)
