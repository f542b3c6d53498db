"""The prompt filters, each recorded on the prompt: the form check, then the zero-shot controversy classifier.

A prompt is kept when it is a question of at least five words and the classifier (or a coordinator overruling it)
says it would split opinion; ``Prompt.filter_reason`` names the filter that rejected it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptQuerySet
from core.jobs import JobRun, job_start
from core.llm.runner import Reply, work_run
from core.llm.types import ChoiceSchema, Completion, LLMRequest, Message
from core.models import Job

if TYPE_CHECKING:
    from core.llm.models import ModelEndpoint

PROMPT_CLASSIFY_JOB = "benchmarks.prompt_classify"
MIN_WORDS = 5

CLASSIFIER_SYSTEM = (
    "You sort questions people asked an AI assistant. A question is controversial when reasonable people would "
    "answer it differently because of their values, beliefs, culture or circumstances (politics, religion, "
    "morality, lifestyle, relationships, how to live). It is not controversial when it has one correct answer or "
    "asks for facts, code, a recipe, a definition or a calculation, or is small talk.\n"
    "Answer yes if the question would split opinion, no otherwise, with a one-line reason."
)


def prompt_form_verdict(text: str) -> str:
    """The form filter: a question mark and at least five words."""
    if "?" not in text:
        return FormCheck.NO_QUESTION_MARK
    if len(text.split()) < MIN_WORDS:
        return FormCheck.TOO_SHORT
    return FormCheck.PASSED


def prompts_form_check(*, prompts: PromptQuerySet | None = None) -> Counter[str]:
    """Run the form filter on ``prompts`` (default: all) and return the count per verdict."""
    queryset = prompts if prompts is not None else Prompt.objects.all()
    counts: Counter[str] = Counter()
    by_verdict: dict[str, list[int]] = {}
    for pk, text in queryset.values_list("pk", "text").iterator(chunk_size=2000):
        verdict = prompt_form_verdict(text)
        by_verdict.setdefault(verdict, []).append(pk)
        counts[verdict] += 1
    with transaction.atomic():
        for verdict, ids in by_verdict.items():
            for start in range(0, len(ids), 5000):
                Prompt.objects.filter(pk__in=ids[start : start + 5000]).update(form_check=verdict)
    return counts


def classify_request(prompt: Prompt) -> LLMRequest:
    return LLMRequest(
        system=CLASSIFIER_SYSTEM,
        messages=(Message("user", f"The question:\n{prompt.text}\n\nWould this question split opinion?"),),
        choice=ChoiceSchema(
            options=("yes", "no"),
            name="controversial",
            description="yes if the question would split opinion, no otherwise.",
            with_reasoning=True,
        ),
        max_tokens=200,
        key=f"controversy-prompt-{prompt.pk}",
    )


def classify_verdict(completion: Completion) -> tuple[str, str] | None:
    """(verdict, one-line reason) from a classifier reply, or None when the reply is not a yes/no."""
    if not completion.valid or completion.choice not in ("yes", "no"):
        return None
    verdict = ControversyVerdict.CONTROVERSIAL if completion.choice == "yes" else ControversyVerdict.REJECTED
    reason = " ".join((completion.reasoning or "").split())[:300]
    return verdict, reason


def prompts_to_classify() -> PromptQuerySet:
    """Prompts that passed the form check and have no classifier verdict (overruled ones are never re-asked)."""
    return Prompt.objects.filter(
        form_check=FormCheck.PASSED, controversy=ControversyVerdict.UNCHECKED, controversy_overruled=False
    )


class _ClassifyHandler:
    """The controversy classifier as runner work; an unreadable reply leaves the prompt unchecked (failed)."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def requests(self, items: list[Prompt], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [classify_request(prompt) for prompt in items]

    def reply(self, item: Prompt, completion: Completion, *, last: bool) -> Reply:
        verdict = classify_verdict(completion)
        if verdict is None:
            self.counts["invalid"] += 1
            return Reply(valid=False)
        item.controversy, item.controversy_reason = verdict
        self.counts[verdict[0]] += 1
        return Reply(item)

    def write(self, rows: list[Prompt]) -> None:
        Prompt.objects.bulk_update(rows, ["controversy", "controversy_reason"], batch_size=500)


def prompts_classify(*, endpoint: ModelEndpoint, run: JobRun | None = None) -> Counter[str]:
    """Ask ``endpoint`` about every prompt still to classify; invalid replies leave the prompt unchecked (failed)."""
    prompts = list(prompts_to_classify().order_by("pk"))
    checked = Prompt.objects.filter(form_check=FormCheck.PASSED).exclude(controversy=ControversyVerdict.UNCHECKED)
    if run is not None:
        run.set_total(len(prompts) + checked.count(), already_done=checked.count())
    counts: Counter[str] = Counter()
    work_run(endpoint=endpoint, items=prompts, handler=_ClassifyHandler(counts), job=run)
    return counts


def prompts_classify_start(*, endpoint: ModelEndpoint, started_by: Any = None) -> Job:
    return job_start(kind=PROMPT_CLASSIFY_JOB, started_by=started_by, params={"endpoint_id": endpoint.pk})


def prompt_overrule(*, prompt: Prompt, controversial: bool) -> Prompt:
    """A coordinator's verdict replaces the classifier's (which stays in ``controversy_reason``)."""
    prompt.controversy = ControversyVerdict.CONTROVERSIAL if controversial else ControversyVerdict.REJECTED
    prompt.controversy_overruled = True
    prompt.save(update_fields=["controversy", "controversy_overruled"])
    return prompt


@dataclass(frozen=True)
class FilterCounts:
    total: int
    kept: int
    unchecked: int
    by_reason: list[tuple[str, str, int]]  # (reason code, label, count)


FILTER_REASON_LABELS = {
    FormCheck.NO_QUESTION_MARK: "No question mark",
    FormCheck.TOO_SHORT: "Fewer than five words",
    "not_controversial": "Would not split opinion (classifier or coordinator)",
    "unchecked": "Not yet through every filter",
    "kept": "Kept",
}


def prompt_filter_counts() -> FilterCounts:
    """Kept / rejected counts per reason (the rule is ``Prompt.filter_reason``), for the prompts page."""
    counts: Counter[str] = Counter()
    for form_check, controversy in Prompt.objects.values_list("form_check", "controversy").iterator(5000):
        counts[Prompt(form_check=form_check, controversy=controversy).filter_reason] += 1
    rejected = [
        (code, FILTER_REASON_LABELS[code], counts[code])
        for code in (FormCheck.NO_QUESTION_MARK, FormCheck.TOO_SHORT, "not_controversial")
    ]
    return FilterCounts(sum(counts.values()), counts["kept"], counts["unchecked"], rejected)
