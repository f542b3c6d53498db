from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.broker import broker_reachable
from core.htmx import HtmxHttpRequest
from core.jobs import JobError, job_cancel, job_facts, job_kinds, job_rerun, job_shard_counts, job_start
from core.llm.failures import job_llm_endpoints, job_llm_failures
from core.models import Job, JobStatus, Statistic

QUEUE_UNREACHABLE = (
    "The job queue cannot be reached (Redis is down or unreachable), so no worker can be told about new work. "
    "New and re-run jobs are kept as queued and start by themselves once it is back; running jobs carry on."
)


def job_started_message(request: HttpRequest, job: Job, started: str) -> None:
    """Say that ``started`` (say "Census import #4 from pums.csv") is queued, and, when the queue cannot be reached,
    that it waits as queued until it is back."""
    status = job.get_status_display().lower()
    if job.status == JobStatus.QUEUED and not broker_reachable():
        messages.warning(
            request,
            f"{started} is saved as {status}, but the job queue cannot be reached right now: it starts by itself "
            "once the queue is back. Nothing needs doing; do not start it again.",
        )
    else:
        messages.success(request, f"{started} is {status}.")


def job_from_query(request: HttpRequest, *, kinds: tuple[str, ...] | None = None) -> Job | None:
    """The job named by ``?job=<id>`` (a page that started one shows its progress), or None."""
    job_id = request.GET.get("job", "")
    if not job_id.isdigit() or len(job_id) > 18:
        return None
    jobs = Job.objects.filter(pk=job_id)
    return (jobs.filter(kind__in=kinds) if kinds else jobs).first()


def upload_job_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    start: Callable[..., Job],
    kinds: tuple[str, ...],
    template: str,
    refused: type[Exception] | tuple[type[Exception], ...] = (),
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """An import page: a valid POST hands the form's ``file`` (as ``upload``) and its other fields to ``start``, which
    stores the file and queues its job, then comes back to the page showing that job (``?job=``); ``refused``, the
    start's own refusal, lands on the file field."""
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        upload = fields.pop("file")
        try:
            job = start(upload=upload, started_by=request.user, **fields)
        except refused as exc:
            form.add_error("file", str(exc))
        else:
            job_started_message(request, job, f"{job.label} #{job.pk} from {upload.name}")
            return redirect(f"{request.path}?job={job.pk}")
    return render(request, template, {**(context or {}), "form": form, "job": job_from_query(request, kinds=kinds)})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/home.html",
        {
            "statistics": Statistic.objects.all() if request.user.has_perm("core.view_statistic") else None,
            "recent_jobs": Job.objects.listed().select_related("started_by")[:5]
            if request.user.has_perm("core.view_job")
            else None,
        },
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def _startable_kinds(request: HttpRequest) -> list:
    return [
        kind for kind in job_kinds().values() if kind.start_permission and request.user.has_perm(kind.start_permission)
    ]


@permission_required("core.view_job", raise_exception=True)
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.listed().select_related("started_by")[:200]
    return render(
        request,
        "core/job_list.html",
        {
            "jobs": jobs,
            "startable_kinds": _startable_kinds(request),
            "queue_unreachable": QUEUE_UNREACHABLE if not broker_reachable() else "",
        },
    )


@permission_required("core.view_job", raise_exception=True)
@require_GET
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """One job's own page: what was submitted, live progress, the error, where the results are.

    An htmx request gets the fragment it polls, picked by the element it swaps: a row of a jobs table
    (``job-<id>``), the bare progress bar (``job-progress-<id>``, the admin's), else the page's live state block."""
    job = get_object_or_404(Job.objects.select_related("started_by"), pk=job_id)
    if request.htmx:
        target = request.htmx.target
        if target == f"job-{job.pk}":
            return render(request, "core/job_list.html#job-row", {"job": job})
        if target == f"job-progress-{job.pk}":
            return render(request, "core/job_list.html#job-progress", {"job": job, "poll": True})
    failures = [] if job.is_active else job_llm_failures(job=job)
    if request.htmx:
        context = {"job": job, "failures": failures, "shards": job_shard_counts(job=job)}
        return render(request, "core/job_detail.html#job-state", context)
    context = {
        "job": job,
        "facts": job_facts(job),
        "endpoints": job_llm_endpoints(job=job),
        "failures": failures,
        "shards": job_shard_counts(job=job),
    }
    return render(request, "core/job_detail.html", context)


@permission_required("core.add_job", raise_exception=True)
@require_POST
def job_start_view(request: HttpRequest) -> HttpResponse:
    kind_name = request.POST.get("kind", "")
    kind = job_kinds().get(kind_name)
    if kind is None or kind.start_permission is None:
        messages.error(request, "That job kind does not exist or cannot be started here.")
        return redirect("job-list")
    if not request.user.has_perm(kind.start_permission):
        raise PermissionDenied
    job = job_start(kind=kind.name, started_by=request.user)
    job_started_message(request, job, f"{job.label} #{job.pk}")
    return redirect("job-list")


def _job_action_response(request: HtmxHttpRequest, job: Job) -> HttpResponse:
    if request.POST.get("next") == "detail":
        return redirect("job-detail", job.pk)
    if request.htmx:
        return render(request, "core/job_list.html#job-row", {"job": job})
    return redirect("job-list")


@permission_required("core.change_job", raise_exception=True)
@require_POST
def job_cancel_view(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    if not job_cancel(job=job):
        messages.info(request, f"Job #{job.pk} had already ended.")
    job.refresh_from_db()
    return _job_action_response(request, job)


@permission_required("core.change_job", raise_exception=True)
@require_POST
def job_rerun_view(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    try:
        job = job_rerun(job=job)
    except JobError as exc:
        messages.error(request, str(exc))
        job.refresh_from_db()
    return _job_action_response(request, job)
