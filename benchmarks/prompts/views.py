"""The prompts page: import, the two filters (with counts per reason and overrules), topics and the split."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from benchmarks.models import ControversyVerdict, FormCheck, Prompt
from benchmarks.prompts.filters import (
    FILTER_REASON_LABELS,
    prompt_filter_counts,
    prompt_overrule,
    prompts_classify_start,
    prompts_form_check,
)
from benchmarks.prompts.forms import ClassifyForm, PromptImportForm, TopicsSplitForm
from benchmarks.prompts.importing import MAX_FILE_BYTES, PromptImportError, prompts_import
from benchmarks.prompts.topics import prompts_cluster, prompts_split, topic_split_counts

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
@require_POST
def prompt_import(request: HttpRequest) -> HttpResponse:
    form = PromptImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to import.")
        return redirect("prompt-list")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_FILE_BYTES:  # refused before reading it into memory
        messages.error(request, f"{upload.name} is over the {MAX_FILE_BYTES // 2**20} MB limit; nothing was imported.")
        return redirect("prompt-list")
    try:
        result = prompts_import(data=upload.read(), name=upload.name)
    except PromptImportError as exc:
        messages.error(request, f"{upload.name} was refused, nothing was imported: {exc}")
        return redirect("prompt-list")
    messages.success(
        request,
        f"{upload.name} ({result.source}): {result.read} prompts read, {result.created} new, "
        f"{result.existing} already there.",
    )
    return redirect("prompt-list")


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
