"""A run's results as plain tables (the one place pages, downloads, the comparison page and the API read them).

Each table is ``{"name", "title", "columns", "rows", "note"}`` with JSON-safe rows (NaN as None). Pass rates count
every judged answer: an invalid critic reply or an unusable answer is a non-pass, counted in its own column.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Max, Q

from benchmarks.bench.config import BenchConfig, attribute_filter_problems, bench_config_load
from benchmarks.bench.loo import loo_results
from benchmarks.bench.models import DECISIVE_VERDICTS, BenchAnswer, BenchRun, Evaluation, LooRevision, Method, Verdict
from benchmarks.bench.prompts import present_labels
from benchmarks.bench.sampling import persona_matches, slice_label
from benchmarks.bench.statistics import pass_at_k_curve, pass_rate
from core.cache import recompute_get, recompute_set
from personas.models import Persona

# Resamples behind every interval of a run (personas for a pass rate, twins for a leave-one-out median). Not the study
# report's 500 (annotation.reports.intervals.BOOTSTRAP_RESAMPLES): one number for both would move the intervals one of
# the two pages shows. Named here rather than left to agreement's DEFAULT_RESAMPLES so a library default never moves it.
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer as the statistics see it."""

    persona_id: int
    item_id: int
    model: str
    method: str
    sample: int
    verdict: str
    attributes: dict[str, Any]
    dropped: list[str] | None


def _none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6)


def bench_answer_rows(*, run: BenchRun, filters: dict[str, Any] | None = None) -> list[AnswerRow]:
    """The run's answers (optionally only personas matching ``filters``), in a stable order."""
    rows = list(
        BenchAnswer.objects.filter(run=run)
        .order_by("item__position", "endpoint__name", "method", "sample")
        .values_list(
            "item__persona_id", "item_id", "endpoint__name", "method", "sample", "verdict", "dropped_attributes"
        )
    )
    # Each persona's attributes once, however many answers it has (a run can have 100,000s of answers).
    attributes = dict(Persona.objects.filter(pk__in={row[0] for row in rows}).values_list("pk", "attributes"))
    result = [
        AnswerRow(persona, item, model, method, sample, verdict, attributes[persona], dropped)
        for persona, item, model, method, sample, verdict, dropped in rows
    ]
    if filters:
        result = [row for row in result if persona_matches(row.attributes, filters)]
    return result


def _groups(rows: list[AnswerRow]) -> dict[tuple[str, str], list[AnswerRow]]:
    grouped: dict[tuple[str, str], list[AnswerRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.model, row.method)].append(row)
    return dict(sorted(grouped.items(), key=lambda kv: (kv[0][0], list(Method.values).index(kv[0][1]))))


def _rate_row(rows: list[AnswerRow], seed: int) -> dict[str, Any]:
    judged = [row for row in rows if row.verdict in DECISIVE_VERDICTS]
    counts = Counter(row.verdict for row in rows)
    rate = pass_rate(
        [row.verdict == Verdict.PASS for row in judged],
        [row.persona_id for row in judged],
        n_resamples=BOOTSTRAP_RESAMPLES,
        seed=seed,
    )
    return {
        "n": rate.n,
        "personas": rate.groups,
        "passes": counts[Verdict.PASS],
        "needs_revision": counts[Verdict.REVISE],
        "invalid": counts[Verdict.INVALID],
        "no_answer": counts[Verdict.NO_ANSWER],
        "pending": counts[Verdict.PENDING],
        "pass_rate": _none(rate.estimate),
        "ci_low": _none(rate.low),
        "ci_high": _none(rate.high),
    }


def pass_rate_table(rows: list[AnswerRow], *, seed: int) -> dict[str, Any]:
    table_rows = [
        {"model": model, "method": method, **_rate_row(group, seed)} for (model, method), group in _groups(rows).items()
    ]
    return {
        "name": "pass_rates",
        "title": "Pass rate per model and method",
        "columns": [
            "model",
            "method",
            "n",
            "personas",
            "passes",
            "needs_revision",
            "invalid",
            "no_answer",
            "pending",
            "pass_rate",
            "ci_low",
            "ci_high",
        ],
        "rows": table_rows,
        "note": "pass = the critic found no revision needed. n counts the answers with a decisive verdict (pass or "
        "needs revision); invalid critic replies and unusable answers are counted apart, and a rate with no decisive "
        "verdict is undefined, never 0. 95 % interval from 1,000 bootstrap resamples of personas.",
    }


def item_counts(rows: list[AnswerRow]) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """Per (model, method): samples judged n and passes c of each item (the inputs of pass@k)."""
    result = {}
    for key, group in _groups(rows).items():
        per_item: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for row in group:
            if row.verdict in DECISIVE_VERDICTS:
                per_item[row.item_id][0] += 1
                per_item[row.item_id][1] += row.verdict == Verdict.PASS
        result[key] = ([v[0] for v in per_item.values()], [v[1] for v in per_item.values()])
    return result


def pass_at_k_table(rows: list[AnswerRow], *, k_max: int) -> dict[str, Any]:
    table_rows = []
    for (model, method), (n, c) in item_counts(rows).items():
        curve = pass_at_k_curve(n, c, k_max) if n else np.full(k_max, np.nan)
        for k in range(1, k_max + 1):
            items = int(np.sum(np.asarray(n) >= k)) if n else 0
            table_rows.append(
                {"model": model, "method": method, "k": k, "items": items, "pass_at_k": _none(curve[k - 1])}
            )
    return {
        "name": "pass_at_k",
        "title": "pass@k per model and method",
        "columns": ["model", "method", "k", "items", "pass_at_k"],
        "rows": table_rows,
        "note": "Unbiased estimator 1 - C(n-c, k)/C(n, k) per item (n judged samples, c passes), averaged over items "
        "with n >= k.",
    }


def slice_table(rows: list[AnswerRow], *, slices: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    table_rows = []
    for spec in [{}, *slices]:
        matching = [row for row in rows if persona_matches(row.attributes, spec)]
        for (model, method), group in _groups(matching).items():
            rate = _rate_row(group, seed)
            table_rows.append(
                {
                    "slice": slice_label(spec),
                    "model": model,
                    "method": method,
                    **{key: rate[key] for key in ("n", "personas", "pass_rate", "ci_low", "ci_high")},
                }
            )
    return {
        "name": "slices",
        "title": "Intersectional slices",
        "columns": ["slice", "model", "method", "n", "personas", "pass_rate", "ci_low", "ci_high"],
        "rows": table_rows,
        "note": "Personas whose attributes match every value of the slice (ranges inclusive); intervals resample the "
        "slice's personas.",
    }


def summary_table(rows: list[AnswerRow]) -> dict[str, Any]:
    """Figure 11: how often a demographic summary dropped each attribute, of the summaries whose persona had it."""
    present: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for row in rows:
        if row.method != Method.DEMOGRAPHIC_SUMMARY or row.dropped is None:
            continue
        labels = present_labels(row.attributes)
        present.update(labels)
        dropped.update(label for label in set(row.dropped) if label in labels)
    table_rows = [
        {
            "attribute": label,
            "summaries": present[label],
            "dropped": dropped[label],
            "share_dropped": _none(dropped[label] / present[label]),
        }
        for label in sorted(present, key=lambda label: (-dropped[label] / present[label], label))
    ]
    return {
        "name": "summary_dropped",
        "title": "Summary analysis: attributes the demographic summaries dropped",
        "columns": ["attribute", "summaries", "dropped", "share_dropped"],
        "rows": table_rows,
        "note": "summaries = analysed summaries whose persona has the attribute; dropped = of those, the summaries "
        "the judge found leaving it out.",
    }


def bench_results(*, run: BenchRun, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every table of a run (a personalization run restricted to personas matching ``filters`` when given)."""
    config: BenchConfig = bench_config_load(run.config)
    if run.evaluation == Evaluation.LEAVE_ONE_OUT:
        return {
            "run": {"id": run.pk, "name": run.name, "evaluation": run.evaluation, "config": run.config},
            "filters": {},
            **loo_results(run=run, config=config, n_resamples=BOOTSTRAP_RESAMPLES),
        }
    rows = bench_answer_rows(run=run, filters=filters)
    seed = config.seed
    tables = [
        pass_rate_table(rows, seed=seed),
        pass_at_k_table(rows, k_max=config.k),
        slice_table(rows, slices=list(config.slices), seed=seed),
    ]
    if Method.DEMOGRAPHIC_SUMMARY in config.methods:
        tables.append(summary_table(rows))
    return {
        "run": {"id": run.pk, "name": run.name, "evaluation": run.evaluation, "config": run.config},
        "filters": filters or {},
        "answers": len(rows),
        "items": run.items.count(),
        "tables": {table["name"]: table for table in tables},
    }


def _fingerprint(run: BenchRun) -> str:
    if run.evaluation == Evaluation.LEAVE_ONE_OUT:
        stats = LooRevision.objects.filter(twin__run=run).aggregate(
            n=Count("id"), judged=Count("id", filter=~Q(choice=""))
        )
    else:
        stats = BenchAnswer.objects.filter(run=run).aggregate(n=Count("id"), last=Max("updated_at"))
    # created_at too: a run id used again (SQLite after a rollback, a restored database) never gets another run's.
    return hashlib.sha256(json.dumps([run.pk, run.created_at, stats], default=str).encode()).hexdigest()[:16]


def bench_results_cached(*, run: BenchRun, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """``bench_results``, kept in the cache while the run's stored rows are unchanged (pages draw several figures)."""
    scope = hashlib.sha256(json.dumps(filters or {}, sort_keys=True).encode()).hexdigest()[:16]
    key = f"bench-results:{_fingerprint(run)}:{scope}"
    results = recompute_get(key)
    if results is None:
        results = bench_results(run=run, filters=filters)
        recompute_set(key, results, timeout=3600)
    return results


def comparison_results(*, runs: list[BenchRun]) -> dict[str, Any]:
    """Pass rates and pass@k of several personalization runs side by side (a ``run`` column added)."""
    tables: dict[str, dict[str, Any]] = {}
    for run in runs:
        results = bench_results_cached(run=run)
        for name in ("pass_rates", "pass_at_k"):
            table = results["tables"][name]
            merged = tables.setdefault(name, {**table, "columns": ["run", *table["columns"]], "rows": []})
            merged["rows"] += [{"run": f"#{run.pk} {run.name}", **row} for row in table["rows"]]
    return {"runs": [{"id": run.pk, "name": run.name} for run in runs], "tables": tables}


def filter_parse(text: str) -> dict[str, Any]:
    """A results filter from its text form, ``sex=Male; age=18-34`` (``|`` separates alternatives).

    Raises ``ValueError`` naming an unknown attribute or a malformed part.
    """
    filters: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{part!r} is not attribute=value")
        values = [v.strip() for v in value.split("|") if v.strip()]
        filters[key.strip()] = values if len(values) > 1 else values[0]
    if problems := attribute_filter_problems(filters, label="filter"):
        raise ValueError("; ".join(problems))
    return filters
