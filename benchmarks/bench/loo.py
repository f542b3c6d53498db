"""Leave-one-out attribute influence (PERSONA paper section 4.1, figure 5).

For each attribute a: draw personas where a applies, cut each to a few other attributes (the persona "without a")
and make its twin with a added. A fixed set of baseline answers y_l (the generator's plain answers to seeded
questions) is critiqued and revised for every persona and every twin with the preference-data generator's prompts
and rules (``benchmarks.datasets.generation``). Then each of the two, role-played by the judge, picks between the
two revisions of each answer; Cohen's kappa between a persona's picks and its twin's says how much adding a changed
the preferences (lower = more influence). Every stage is an upsert keyed by (twin, variant, answer): a resumed job
does only what is missing.
"""

from __future__ import annotations

import itertools
import json
import random
import warnings
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q
from numpy.typing import NDArray

from benchmarks.agreement import MIN_GROUPS_FOR_INTERVAL, bootstrap_group_values, reportable_interval
from benchmarks.agreement.cohen import cohen_kappa
from benchmarks.bench.config import BenchConfig, bench_config_load
from benchmarks.bench.models import BenchRun, LooAnswer, LooRevision, LooTwin, LooVariant
from benchmarks.bench.prompts import loo_pick_request
from benchmarks.bench.sampling import loo_twins_draw
from benchmarks.datasets.generation import (
    answer_request,
    critique_problem,
    critique_request,
    persona_values,
    revision_check,
    revision_request,
    text_problem,
)
from benchmarks.judging.prompts import attributes_text
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.jobs import JobRun
from core.llm.models import ModelEndpoint
from core.llm.runner import Reply, work_run
from core.llm.types import Completion, LLMRequest

VARIANTS = (LooVariant.WITHOUT.value, LooVariant.WITH.value)


def loo_twins_ensure(*, bench_run: BenchRun, config: BenchConfig) -> None:
    """Draw and store the run's twins once (a resumed run keeps the ones it has)."""
    loo = config.leave_one_out
    assert loo is not None
    if bench_run.loo_twins.exists():
        return
    rows = [
        LooTwin(
            run=bench_run,
            attribute=attribute,
            index=index,
            persona_id=pk,
            without_attributes=without,
            with_attributes=with_attribute,
        )
        for attribute in loo.attributes
        for index, (pk, without, with_attribute) in enumerate(
            loo_twins_draw(
                attribute=attribute, personas=loo.personas, others=loo.attributes_per_persona, seed=config.seed
            )
        )
    ]
    LooTwin.objects.bulk_create(rows, ignore_conflicts=True)


def loo_questions(*, config: BenchConfig) -> list[Prompt]:
    """The seeded questions whose baseline answers every persona and twin revises."""
    loo = config.leave_one_out
    assert loo is not None
    if config.prompt_split:
        ids = list(Prompt.objects.filter(split=config.prompt_split).order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(
            set(PreferencePair.objects.filter(split__in=config.pair_splits).values_list("prompt_id", flat=True))
        )
    if len(ids) < loo.answers:
        raise ValueError(f"the source has {len(ids)} questions; the leave-one-out needs {loo.answers}")
    picked = sorted(random.Random(f"{config.seed}:questions").sample(ids, loo.answers))
    return list(Prompt.objects.filter(pk__in=picked).order_by("pk"))


class _AnswerHandler:
    """A baseline answer y_l per question; a reply that is no usable text is stored as failed (not asked again)."""

    def __init__(self, bench_run: BenchRun) -> None:
        self.bench_run = bench_run

    def requests(self, items: list[Prompt], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [answer_request(prompt_text=q.text, key=f"loo-{self.bench_run.pk}-answer-{q.pk}") for q in items]

    def reply(self, item: Prompt, completion: Completion, *, last: bool) -> Reply:
        problem = text_problem(completion)
        row = LooAnswer(
            run=self.bench_run,
            prompt=item,
            text=completion.text.strip() if not problem else "",
            ok=problem is None,
            error=problem[1] if problem else "",
        )
        return Reply(row, valid=row.ok)

    def write(self, rows: list[LooAnswer]) -> None:
        LooAnswer.objects.bulk_create(rows, ignore_conflicts=True)


def loo_answers_ensure(*, bench_run: BenchRun, config: BenchConfig, job: JobRun | None) -> list[LooAnswer]:
    """The fixed baseline answers y_l (one per question), asked for where none is stored yet."""
    loo = config.leave_one_out
    assert loo is not None
    questions = loo_questions(config=config)
    stored = set(bench_run.loo_answers.values_list("prompt_id", flat=True))
    work_run(
        endpoint=ModelEndpoint.objects.get(name=loo.generator),
        items=[q for q in questions if q.pk not in stored],
        handler=_AnswerHandler(bench_run),
        job=job,
    )
    return list(bench_run.loo_answers.filter(prompt__in=questions, ok=True).select_related("prompt"))


def _persona_text(twin: LooTwin, variant: str) -> str:
    return attributes_text(twin.attributes_for(variant))


Key = tuple[LooTwin, str, LooAnswer]  # (twin, variant, baseline answer)


class _CritiqueHandler:
    """A variant's critique of a baseline answer (the dataset stage's prompt and rules, echo guard included); a
    failed critique also settles its revision (there is nothing to revise)."""

    def __init__(self, bench_run: BenchRun) -> None:
        self.bench_run = bench_run

    def requests(self, items: list[Key], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [
            critique_request(
                persona_text=_persona_text(t, v),
                prompt_text=a.prompt.text,
                answer=a.text,
                key=f"loo-{self.bench_run.pk}-critique-{t.pk}-{v}-{a.pk}",
            )
            for t, v, a in items
        ]

    def reply(self, item: Key, completion: Completion, *, last: bool) -> Reply:
        twin, variant, answer = item
        problem = critique_problem(completion)
        row = LooRevision(
            twin=twin,
            variant=variant,
            answer=answer,
            critique=completion.text.strip() if not problem else "",
            reason=problem[0] if problem else "",
        )
        return Reply(row, valid=problem is None, failed=2 if problem else 0)

    def write(self, rows: list[LooRevision]) -> None:
        LooRevision.objects.bulk_create(rows, ignore_conflicts=True)


class _RevisionHandler:
    """A variant's revision after its critique, by the dataset stages' revise-and-retry (``revision_check``)."""

    def __init__(self, bench_run: BenchRun) -> None:
        self.bench_run = bench_run

    def requests(self, items: list[LooRevision], *, retry: list[str] | None = None) -> list[LLMRequest]:
        reasons = retry or [""] * len(items)
        return [
            revision_request(
                persona_text=_persona_text(r.twin, r.variant),
                prompt_text=r.answer.prompt.text,
                answer=r.answer.text,
                critique=r.critique,
                key=f"loo-{self.bench_run.pk}-revision-{r.pk}",
                sample=1 if reason else 0,
                retry_reason=reason,
            )
            for r, reason in zip(items, reasons, strict=True)
        ]

    def reply(self, row: LooRevision, completion: Completion, *, last: bool) -> Reply:
        values = persona_values(_persona_text(row.twin, row.variant))
        check = revision_check(completion=completion, original=row.answer.text, attribute_values=values, last=last)
        if check.retry:
            return Reply(retry=check.retry)
        row.ok = check.problem is None
        row.revision = check.text
        row.reason = check.problem[0] if check.problem else ""
        return Reply(row, valid=row.ok)

    def write(self, rows: list[LooRevision]) -> None:
        LooRevision.objects.bulk_update(rows, ["ok", "revision", "reason"])


def loo_revisions_run(
    *, bench_run: BenchRun, config: BenchConfig, answers: list[LooAnswer], job: JobRun | None
) -> None:
    """Critique, then revise (a revision breaking a rule is retried once), each baseline answer for every variant."""
    loo = config.leave_one_out
    assert loo is not None
    generator = ModelEndpoint.objects.get(name=loo.generator)
    twins = list(bench_run.loo_twins.all())
    stored = set(LooRevision.objects.filter(twin__run=bench_run).values_list("twin_id", "variant", "answer_id"))
    keys = ((t, v, a) for t in twins for v in VARIANTS for a in answers if (t.pk, v, a.pk) not in stored)
    work_run(endpoint=generator, items=keys, handler=_CritiqueHandler(bench_run), job=job)
    # "retry": a first attempt refused by an earlier version, which kept it between the two attempts.
    pending = (
        LooRevision.objects.filter(twin__run=bench_run, ok=False, reason__in=["", "retry"])
        .exclude(critique="")
        .select_related("twin", "answer__prompt")
        .order_by("pk")
    )
    work_run(endpoint=generator, items=list(pending), handler=_RevisionHandler(bench_run), job=job, retries=1)


def _judge_again() -> Q:
    """Invalid picks a re-run asks again: kept for the record, but no pick (``LLM_INVALID_RETRIES``)."""
    return Q(choice="invalid", judge_attempts__lte=settings.LLM_INVALID_RETRIES)


Pick = tuple[LooRevision, LooRevision, LooRevision, bool]  # (row, without, with, whether "with" is shown first)


class _PickHandler:
    """A variant, role-played, picks between the two revisions; an unreadable pick is stored as ``invalid``."""

    def __init__(self, bench_run: BenchRun) -> None:
        self.bench_run = bench_run

    def requests(self, items: list[Pick], *, retry: list[str] | None = None) -> list[LLMRequest]:
        requests = []
        for row, without, with_attribute, flip in items:
            first, second = (with_attribute, without) if flip else (without, with_attribute)
            requests.append(
                loo_pick_request(
                    persona=row.twin.attributes_for(row.variant),
                    question=row.answer.prompt.text,
                    answer_a=first.revision,
                    answer_b=second.revision,
                    key=f"loo-{self.bench_run.pk}-judge-{row.pk}",
                )
            )
        return requests

    def reply(self, item: Pick, completion: Completion, *, last: bool) -> Reply:
        row, _, _, first_is_with = item
        if completion.valid and completion.choice in ("A", "B"):
            picked_with = (completion.choice == "A") == first_is_with
            row.choice = LooVariant.WITH if picked_with else LooVariant.WITHOUT
        else:
            row.choice = "invalid"
        row.judge_attempts += 1
        row.judge_raw = (completion.raw or completion.text or completion.error)[:20_000]
        return Reply(row, valid=row.choice != "invalid")

    def write(self, rows: list[LooRevision]) -> None:
        LooRevision.objects.bulk_update(rows, ["choice", "judge_raw", "judge_attempts"])


def loo_judgments_run(*, bench_run: BenchRun, config: BenchConfig, job: JobRun | None) -> None:
    """Each variant, role-played, picks between its own and its twin's revision of each answer (order seeded).

    An invalid pick stays stored, but a re-run asks it again, at most ``LLM_INVALID_RETRIES`` more times.
    """
    loo = config.leave_one_out
    assert loo is not None
    judge = ModelEndpoint.objects.get(name=loo.judge)
    rows = list(LooRevision.objects.filter(twin__run=bench_run).select_related("twin", "answer__prompt"))
    by_key = {(r.twin_id, r.variant, r.answer_id): r for r in rows}
    ask_again = {r.pk for r in LooRevision.objects.filter(_judge_again(), twin__run=bench_run).only("pk")}

    def settled_failed(row: LooRevision | None) -> bool:
        return row is not None and not row.ok and row.reason not in ("", "retry")

    pending: list[Pick] = []
    skipped = []
    for row in rows:
        other = by_key.get(
            (row.twin_id, LooVariant.WITH if row.variant == LooVariant.WITHOUT else LooVariant.WITHOUT, row.answer_id)
        )
        if row.choice == "" and (settled_failed(row) or settled_failed(other)):
            row.choice = "skipped"  # this variant or its twin has no revision: nothing to pick between
            skipped.append(row)
        elif (row.choice == "" or row.pk in ask_again) and row.ok and other is not None and other.ok:
            flip = random.Random(f"{config.seed}:{row.pk}").random() < 0.5
            pending.append(
                (
                    row,
                    by_key[(row.twin_id, LooVariant.WITHOUT, row.answer_id)],
                    by_key[(row.twin_id, LooVariant.WITH, row.answer_id)],
                    flip,
                )
            )
    LooRevision.objects.bulk_update(skipped, ["choice"])
    if job is not None and skipped:
        job.advance(done=0, failed=len(skipped))
    work_run(endpoint=judge, items=pending, handler=_PickHandler(bench_run), job=job)


def loo_run_execute(*, bench_run: BenchRun, job: JobRun | None = None) -> None:
    """Run (or resume) a leave-one-out run: twins, baseline answers, critiques and revisions, judgments."""
    config = bench_config_load(bench_run.config)
    loo = config.leave_one_out
    assert loo is not None
    loo_twins_ensure(bench_run=bench_run, config=config)
    if job is not None:
        twins = bench_run.loo_twins.count()
        total = loo.answers + twins * 2 * loo.answers * 3
        revisions = LooRevision.objects.filter(twin__run=bench_run)
        done = (
            bench_run.loo_answers.count()
            + revisions.count()
            + revisions.exclude(revision="", reason__in=["", "retry"]).count()
            + revisions.exclude(choice="").exclude(_judge_again()).count()
        )
        job.set_total(total, already_done=done)
    answers = loo_answers_ensure(bench_run=bench_run, config=config, job=job)
    loo_revisions_run(bench_run=bench_run, config=config, answers=answers, job=job)
    loo_judgments_run(bench_run=bench_run, config=config, job=job)


def loo_kappa_rows(*, run: BenchRun) -> list[dict[str, Any]]:
    """Per twin: Cohen's kappa between the persona's picks and its twin's over the answers both judged validly."""
    picks: dict[int, dict[str, dict[int, str]]] = defaultdict(lambda: defaultdict(dict))
    for twin_id, variant, answer_id, choice in LooRevision.objects.filter(
        twin__run=run, choice__in=VARIANTS
    ).values_list("twin_id", "variant", "answer_id", "choice"):
        picks[twin_id][variant][answer_id] = choice
    rows = []
    for twin in run.loo_twins.order_by("attribute", "index"):
        without, with_attribute = picks[twin.pk][LooVariant.WITHOUT], picks[twin.pk][LooVariant.WITH]
        shared = sorted(set(without) & set(with_attribute))
        if shared:
            kappa, n = cohen_kappa(
                [without[a] for a in shared], [with_attribute[a] for a in shared], categories=list(VARIANTS)
            )
        else:
            kappa, n = float("nan"), 0
        agreement = sum(without[a] == with_attribute[a] for a in shared) / n if n else None
        rows.append(
            {
                "attribute": twin.attribute,
                "twin": twin.index,
                "persona": twin.persona_id,
                "n": n,
                "agreement": agreement,
                "kappa": None if np.isnan(kappa) else round(kappa, 6),
            }
        )
    return rows


SUMMARY_COLUMNS = [
    "attribute",
    "twins",
    "defined",
    "answers",
    "median_kappa",
    "ci_low",
    "ci_high",
    "ci_resamples_defined",
    "ci_note",
    "mean_kappa",
]


def median_defined(kappas: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per row, the median of the defined (non-NaN) per-twin kappas; NaN where none is defined."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        return np.nanmedian(kappas, axis=-1)


def loo_summary_rows(rows: list[dict[str, Any]], *, n_resamples: int, seed: int) -> list[dict[str, Any]]:
    """Per attribute: the median of its twins' kappas with the counts behind it (twins, those with a defined kappa,
    answers both judged validly) and a 95 % interval resampling twins, shown by the reports' policy (at least
    ``MIN_GROUPS_FOR_INTERVAL`` twins); lowest median first."""
    by_attribute: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_attribute[row["attribute"]].append(row)
    summary = []
    for attribute, twins in sorted(by_attribute.items()):
        kappas = np.array([np.nan if t["kappa"] is None else t["kappa"] for t in twins], dtype=np.float64)
        interval = bootstrap_group_values(kappas, statistic=median_defined, n_resamples=n_resamples, seed=seed)
        defined = kappas[~np.isnan(kappas)]
        summary.append(
            {
                "attribute": attribute,
                "twins": len(twins),
                "defined": int(defined.size),
                "answers": sum(t["n"] for t in twins),
                "median_kappa": float(interval.estimate) if defined.size else None,
                **reportable_interval(interval, n_groups=len(twins)).columns(),
                "mean_kappa": float(defined.mean()) if defined.size else None,
            }
        )
    summary.sort(key=lambda r: (r["median_kappa"] is None, r["median_kappa"] or 0))
    return summary


def loo_separation_note(summary: list[dict[str, Any]]) -> str:
    """A plain sentence when the data cannot order the attributes by influence (some have no interval, or
    neighbouring intervals overlap); empty when every attribute is apart from its neighbours or there is one."""
    if len(summary) < 2:
        return ""
    without = [row for row in summary if row["ci_low"] is None]
    if without:
        twins = sorted({row["twins"] for row in summary})
        counts = f"{twins[0]}" if len(twins) == 1 else f"{twins[0]}-{twins[-1]}"
        return (
            f"The data cannot rank these attributes: with {counts} twins per attribute, {len(without)} of "
            f"{len(summary)} have no interval (a bootstrap over twins needs at least {MIN_GROUPS_FOR_INTERVAL} twins "
            "with a defined kappa in nearly every resample). The order is the medians' order only: read it as noise, "
            "not as one attribute mattering more than another."
        )
    overlapping = [
        f"{a['attribute']} and {b['attribute']}" for a, b in itertools.pairwise(summary) if a["ci_high"] >= b["ci_low"]
    ]
    if overlapping:
        return (
            f"The intervals of {'; '.join(overlapping)} overlap: the data cannot tell which of each pair has more "
            "influence, so their order is noise."
        )
    return ""


def loo_results(*, run: BenchRun, config: BenchConfig, n_resamples: int) -> dict[str, Any]:
    rows = loo_kappa_rows(run=run)
    summary = loo_summary_rows(rows, n_resamples=n_resamples, seed=config.seed)
    separation = loo_separation_note(summary)
    failed = LooRevision.objects.filter(twin__run=run, ok=False).exclude(reason__in=["", "retry"]).count()
    return {
        "items": run.loo_twins.count(),
        "answers": LooRevision.objects.filter(twin__run=run).count(),
        "lacking": [separation] if separation else [],
        "tables": {
            "loo_kappa_summary": {
                "name": "loo_kappa_summary",
                "title": "Leave-one-out influence per attribute (sorted by median kappa: lower = more influence)",
                "columns": SUMMARY_COLUMNS,
                "rows": summary,
                "note": (f"{separation} " if separation else "")
                + "twins: personas drawn for the attribute, each with its twin; defined: twins whose kappa is "
                "defined (it is undefined when a persona and its twin each picked one side only); answers: picks "
                "both judged validly, summed over the twins. The median is over the defined kappas; its 95 % "
                f"interval resamples twins ({n_resamples:,} resamples). {failed} revisions failed the generator's "
                "rules and were left out.",
            },
            "loo_kappa": {
                "name": "loo_kappa",
                "title": "Kappa per persona and twin",
                "columns": ["attribute", "twin", "persona", "n", "agreement", "kappa"],
                "rows": rows,
                "note": "n = answers both judged validly; agreement = share of the same pick. Every pick behind it: "
                "the run's answers CSV.",
            },
        },
    }


LOO_ANSWER_COLUMNS = [
    "attribute",
    "twin",
    "persona",
    "attributes_kept",
    "value_added",
    "question",
    "answer",
    "picked_by_without",
    "picked_by_with",
    "critique_without",
    "revision_without",
    "revision_problem_without",
    "critique_with",
    "revision_with",
    "revision_problem_with",
]


def loo_answer_rows(*, run: BenchRun) -> Iterator[dict[str, Any]]:
    """One row per twin and baseline answer: the attribute dropped, the persona and what it kept, the question and
    answer, and for each variant (without / with the attribute) its critique, revision and pick ("without" /
    "with" = whose revision it picked; "invalid", "skipped" or empty = not a pick, left out of the kappa). The
    per-twin kappas of ``loo_kappa_rows`` are recomputable from these rows alone."""
    revisions = (
        LooRevision.objects.filter(twin__run=run)
        .select_related("twin__persona", "answer__prompt")
        .order_by("twin__attribute", "twin__index", "answer__prompt_id", "variant")
    )
    row: dict[str, Any] | None = None
    for revision in revisions.iterator(chunk_size=500):
        twin, answer = revision.twin, revision.answer
        key = (twin.pk, answer.pk)
        if row is None or row["_key"] != key:
            if row is not None:
                yield {column: row.get(column, "") for column in LOO_ANSWER_COLUMNS}
            row = {
                "_key": key,
                "attribute": twin.attribute,
                "twin": twin.index,
                "persona": str(twin.persona.public_id),
                "attributes_kept": json.dumps(twin.without_attributes, sort_keys=True),
                "value_added": twin.with_attributes.get(twin.attribute),
                "question": answer.prompt.text,
                "answer": answer.text,
            }
        suffix = revision.variant
        row[f"picked_by_{suffix}"] = revision.choice
        row[f"critique_{suffix}"] = revision.critique
        row[f"revision_{suffix}"] = revision.revision
        row[f"revision_problem_{suffix}"] = "" if revision.ok else revision.reason
    if row is not None:
        yield {column: row.get(column, "") for column in LOO_ANSWER_COLUMNS}
