"""The prompts page: import, the two filters (with counts per reason and overrules), topics and the split."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from benchmarks.prompts.filters import (
    FILTER_REASON_LABELS,
    prompt_filter_counts,
    prompt_overrule,
    prompts_classify_start,
    prompts_form_check,
)
from benchmarks.prompts.forms import ClassifyForm, PromptImportForm, TopicsSplitForm
from benchmarks.prompts.import_job import PROMPTS_IMPORT_JOB, prompts_import_start
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt
from benchmarks.prompts.topics import prompts_cluster, prompts_split, topic_split_counts
from core.uploads import FileRefusedError
from core.views import upload_job_page

PAGE_SIZE = 50
_REASON_FILTERS = {
    FormCheck.NO_QUESTION_MARK: {"form_check": FormCheck.NO_QUESTION_MARK},
    FormCheck.TOO_SHORT: {"form_check": FormCheck.TOO_SHORT},
    "not_controversial": {"form_check": FormCheck.PASSED, "controversy": ControversyVerdict.REJECTED},
    "kept": {"form_check": FormCheck.PASSED, "controversy": ControversyVerdict.CONTROVERSIAL},
}


@permission_required("benchmarks.view_prompt", raise_exception=True)
@require_GET
def prompt_list(request: HttpRequest) -> HttpResponse:
    reason = request.GET.get("reason", "")
    prompts = Prompt.objects.order_by("id")
    if reason in _REASON_FILTERS:
        prompts = prompts.filter(**_REASON_FILTERS[reason])
    page = Paginator(prompts, PAGE_SIZE).get_page(request.GET.get("page"))
    bars = topic_split_counts()
    context = {
        "counts": prompt_filter_counts(),
        "page": page,
        "reason": reason,
        "reasons": [(code, FILTER_REASON_LABELS[code]) for code in _REASON_FILTERS],
        "bars": bars,
        "bar_max": max((b.total for b in bars), default=1),
        "import_form": PromptImportForm(),
        "classify_form": ClassifyForm(),
        "topics_form": TopicsSplitForm(),
    }
    return render(request, "benchmarks/prompt_list.html", context)


@permission_required("benchmarks.add_prompt", raise_exception=True)
@require_http_methods(["GET", "POST"])
def prompt_import(request: HttpRequest) -> HttpResponse:
    """Upload a prompts file; the import runs as a job whose progress, then outcome, this page shows."""
    return upload_job_page(
        request,
        form=PromptImportForm(request.POST or None, request.FILES or None),
        start=prompts_import_start,
        refused=FileRefusedError,
        kinds=(PROMPTS_IMPORT_JOB,),
        template="benchmarks/prompts_import.html",
    )


@permission_required("benchmarks.change_prompt", raise_exception=True)
@require_POST
def prompt_form_filter(request: HttpRequest) -> HttpResponse:
    counts = prompts_form_check()
    summary = ", ".join(f"{FormCheck(code).label.lower()}: {n}" for code, n in sorted(counts.items()))
    messages.success(request, f"Form filter applied ({summary or 'no prompts'}).")
    return redirect("prompt-list")


@permission_required("benchmarks.change_prompt", raise_exception=True)
@require_POST
def prompt_classify(request: HttpRequest) -> HttpResponse:
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the classifier endpoint.")
        return redirect("prompt-list")
    job = prompts_classify_start(endpoint=form.cleaned_data["endpoint"], started_by=request.user)
    messages.success(request, f"Controversy classifier started (job #{job.pk}); the counts update as it runs.")
    return redirect("prompt-list")


@permission_required("benchmarks.change_prompt", raise_exception=True)
@require_POST
def prompt_topics(request: HttpRequest) -> HttpResponse:
    form = TopicsSplitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the clustering and split settings.")
        return redirect("prompt-list")
    seed = form.cleaned_data["seed"]
    clusters = prompts_cluster(k=form.cleaned_data["clusters"], seed=seed)
    split = prompts_split(heldout=form.cleaned_data["heldout"], seed=seed)
    messages.success(
        request,
        f"{sum(clusters.values())} prompts clustered into {len(clusters)} topics; split {split['train']} train / "
        f"{split['heldout']} held out (seed {seed}).",
    )
    return redirect("prompt-list")


@permission_required("benchmarks.change_prompt", raise_exception=True)
@require_POST
def prompt_overrule_view(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=prompt_id)
    prompt = prompt_overrule(prompt=prompt, controversial=request.POST.get("verdict") == "controversial")
    if request.htmx:
        return render(request, "benchmarks/prompt_list.html#prompt-row", {"prompt": prompt})
    return redirect("prompt-list")
