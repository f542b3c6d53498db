"""Preference-data benchmarks: generation throughput, cost per 1,000 pairs, planning and export at the
paper's scale. Command: ``bin/perf pairs``. Uses the configured database (rows are deleted afterwards).

- generation: the critique stage against the mock server (200 ms latency) at concurrency 32, OpenAI SDK;
  calls/s ÷ (32 / 0.2 s).
- cost per 1,000 pairs, counted from the mock server's usage figures: y_l reused + Message Batches + the persona as
  the cached prefix, ÷ naive (y_l per pair, sequential calls, no cache: cache reads and writes billed at the input
  price), at Claude's minimum cacheable prefix (1,024 tokens): the instructions carry the persona card guide
  (``personas.card_guide``), so instructions + persona pass it and each persona's calls read it from the cache.
- planning 1,586 personas x 200 pairs (assignment rows written): wall time and the process's peak RSS.
- export of 317,200 pairs to Parquet, ÷ a plain export of the same columns (one query fetched whole, one
  ``pyarrow.parquet.write_table``); memory growth of each.
"""

from __future__ import annotations

import contextlib
import gc
import json
import resource
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.management import call_command
from django.db import connection

from benchmarks.datasets.export import COLUMNS, SCHEMA, dataset_export
from benchmarks.datasets.models import PersonaScope, PreferenceDataset
from benchmarks.datasets.planning import dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptSplit, text_digest
from core.jobs import JobRun
from core.llm.models import ModelEndpoint
from core.models import Job, JobStatus
from perf.result import Result
from personas.formats import persona_to_text
from personas.models import Persona, PersonaStatus
from tests.llm_mock import spawn_mock_server

LATENCY = 0.2
CONCURRENCY = 32
TAG = "bench-pairs"
PERSONA = {
    "age": "44",
    "sex": "Female",
    "race": "White alone",
    "ancestry": "Benchmarkian",  # marks the benchmark's personas: plans take only these
    "household language": "English only",
    "education": "Bachelor's degree",
    "employment status": "Civilian employed, at work",
    "class of worker": "Employee of a private for-profit company",
    "industry category": "MED-General Medical And Surgical Hospitals",
    "occupation category": "MED-Registered Nurses",
    "detailed job description": "Cares for patients on a surgical ward, coordinates with doctors and families.",
    "income": "61000.0",
    "marital status": "Married",
    "household type": "Married couple household",
    "family presence and age": "With related children under 18",
    "place of birth": "Ohio/OH",
    "citizenship": "Born in the United States",
    "veteran status": "Non-veteran",
    "disability": "No disability",
    "health insurance": "With health insurance coverage",
    "big five scores": "Openness: Average, Conscientiousness: High, Extraversion: Average, Agreeableness: High, "
    "Neuroticism: Low",
    "defining quirks": "Keeps a handwritten planner for every week of the year",
    "mannerisms": "Taps her pen when she is thinking",
    "personal time": "Gardening and long walks with the dog",
    "lifestyle": "Busy but structured, early to bed",
    "ideology": "Moderate",
    "political views": "Independent",
    "religion": "Lutheran",
}


def _peak_reset() -> None:
    """Reset the process's peak RSS (Linux: writing 5 to clear_refs resets VmHWM), so each figure is its own."""
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else since the process started."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _endpoint(url: str, provider: str, *, concurrency: int = CONCURRENCY, naive: bool = False) -> ModelEndpoint:
    endpoint = ModelEndpoint(
        name=f"{TAG}-{uuid.uuid4().hex[:8]}",
        provider=provider,
        model="mock-model",
        base_url=url,
        concurrency=concurrency,
        timeout_seconds=30,
        # Claude Sonnet list prices; the naive run bills cache reads and writes as plain input (= no cache).
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
        price_cache_read_per_mtok=Decimal(3) if naive else Decimal("0.30"),
        price_cache_write_per_mtok=Decimal(3) if naive else Decimal("3.75"),
        batch_price_factor=Decimal("0.5"),
    )
    endpoint.save()
    return endpoint


def _world(n_personas: int, n_train: int, n_heldout: int) -> None:
    Persona.objects.bulk_create(
        [
            Persona(
                attributes={**PERSONA, "age": str(20 + i % 60), "religion": f"Faith {i}"},
                status=PersonaStatus.CONSISTENT,
            )
            for i in range(n_personas)
        ],
        batch_size=2000,
    )
    prompts = []
    for i in range(n_train + n_heldout):
        text = f"[{TAG}] Should people {['save', 'spend', 'vote', 'pray'][i % 4]} differently, question {i}?"
        prompts.append(
            Prompt(
                text=text,
                text_sha256=text_digest(text),
                topic=f"{TAG} topic {i % 20}",
                form_check=FormCheck.PASSED,
                controversy=ControversyVerdict.CONTROVERSIAL,
                split=PromptSplit.TRAIN if i < n_train else PromptSplit.HELDOUT,
            )
        )
    Prompt.objects.bulk_create(prompts, batch_size=2000)


def _cleanup() -> None:
    PreferenceDataset.objects.filter(name__startswith=TAG).delete()
    Prompt.objects.filter(text__startswith=f"[{TAG}]").delete()
    Persona.objects.filter(attributes__ancestry=PERSONA["ancestry"]).delete()
    ModelEndpoint.objects.filter(name__startswith=TAG).delete()
    Job.objects.filter(kind="perf.pairs").delete()


def _dataset(endpoint: ModelEndpoint | None, **fields: object) -> PreferenceDataset:
    return PreferenceDataset.objects.create(
        name=f"{TAG}-{uuid.uuid4().hex[:6]}",
        generator=endpoint,
        persona_scope=PersonaScope.FILTER,
        persona_filter={"key": "ancestry", "value": PERSONA["ancestry"]},
        prompt_topics=[f"{TAG} topic {i}" for i in range(20)],
        **fields,
    )


def _run() -> JobRun:
    return JobRun(Job.objects.create(kind="perf.pairs", dedupe_key=uuid.uuid4().hex, status=JobStatus.RUNNING))


def _generation() -> list[Result]:
    _cleanup()
    _world(128, 12, 4)
    with spawn_mock_server(latency=LATENCY, varied_text=True) as url:
        endpoint = _endpoint(url + "/v1", "openai_compatible")
        dataset = _dataset(
            endpoint, train_per_persona=6, test_seen_per_persona=2, test_unseen_per_persona=2, use_batch=False
        )
        dataset_plan(dataset=dataset)
        stage_answer_run(dataset=dataset)
        started = time.perf_counter()
        result = stage_critique_run(dataset=dataset)
        wall = time.perf_counter() - started
    achieved = result.requested / wall
    ideal = CONCURRENCY / LATENCY
    ratio = achieved / ideal
    note = f"{result.requested} critiques in {wall:.1f} s = {achieved:.0f} calls/s vs ideal {ideal:.0f}/s"
    return [Result("pairs", "generation calls/s / ideal @32", ratio, "ratio", ">= 0.9", ratio >= 0.9, note)]


def _cost_ratio(min_cache_tokens: int | None) -> tuple[float, str]:
    """Optimised ÷ naive cost per 1,000 pairs with the mock caching prefixes from ``min_cache_tokens`` (None:
    Claude's own minimum), and a note with both costs."""
    _cleanup()
    _world(10, 80, 20)
    costs = {}
    with spawn_mock_server(latency=0.0, varied_text=True, min_cache_tokens=min_cache_tokens, batch_seconds=0.2) as url:
        for label, naive in (("naive", True), ("optimised", False)):
            endpoint = _endpoint(url, "anthropic", concurrency=1 if naive else CONCURRENCY, naive=naive)
            dataset = _dataset(
                endpoint,
                train_per_persona=60,
                test_seen_per_persona=20,
                test_unseen_per_persona=20,
                answer_per_pair=naive,
                use_batch=not naive,
                seed=1,
            )
            dataset_plan(dataset=dataset)
            run = _run()
            for stage in (stage_answer_run, stage_critique_run, stage_revise_run):
                stage(dataset=dataset, job=run)
            job = Job.objects.get(pk=run.job.pk)
            costs[label] = (job.cost_usd * 1000 / max(1, dataset.pairs.count()), dataset.pairs.count())
    optimised, naive_cost, pairs = costs["optimised"][0], costs["naive"][0], costs["naive"][1]
    note = f"per 1,000 pairs: ${optimised:.2f} vs ${naive_cost:.2f} naive; {pairs} pairs each"
    return float(optimised / naive_cost), note


def _cost() -> list[Result]:
    ratio, note = _cost_ratio(None)
    return [
        Result(
            "pairs",
            "cost per 1,000 pairs optimised / naive, Claude's cache minimum (1,024)",
            ratio,
            "ratio",
            "<= 0.35",
            ratio <= 0.35,
            note=f"y_l reuse + batches + cached instructions/card guide/persona prefix; {note}",
        ),
    ]


def _plan_and_export() -> list[Result]:
    _cleanup()
    gc.collect()
    _world(1586, 3000, 868)
    dataset = _dataset(None, seed=3)
    _peak_reset()
    rss_before = _rss_mb()
    started = time.perf_counter()
    rows = dataset_plan(dataset=dataset)
    plan_s = time.perf_counter() - started
    rss_plan = _peak_mb()
    results = [
        Result("pairs", f"plan {rows:,} assignment rows", plan_s, "s", "< 60", plan_s < 60),
        Result(
            "pairs",
            "plan peak RSS (process)",
            rss_plan,
            "MB",
            "< 500",
            rss_plan < 500,
            f"{rss_before:.0f} MB before planning",
        ),
    ]
    # Pairs for every item: texts of realistic length (y_l ~1.3 kB, critique ~0.6 kB, y_w ~1.2 kB).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO benchmarks_preferencepair (persona_id, prompt_id, dataset_id, rejected, critique, chosen, "
            "split, verification, created_at) SELECT persona_id, prompt_id, dataset_id, repeat(md5(id::text), 40), "
            "repeat(md5((id + 1)::text), 20), repeat(md5((id + 2)::text), 38), split, 'unchecked', now() "
            "FROM benchmarks_datasetitem WHERE dataset_id = %s",
            [dataset.pk],
        )
    with tempfile.TemporaryDirectory() as folder:
        _peak_reset()
        rss = _rss_mb()
        started = time.perf_counter()
        result = dataset_export(dataset=dataset, directory=Path(folder) / "ours", formats=("parquet",))
        ours = time.perf_counter() - started
        ours_growth = _peak_mb() - rss
        _peak_reset()
        rss = _rss_mb()
        started = time.perf_counter()
        plain_path = Path(folder) / "plain.parquet"
        _plain_export(dataset, plain_path)
        plain = time.perf_counter() - started
        plain_growth = _peak_mb() - rss
    n = sum(result.counts.values())
    ratio = ours / plain
    results += [
        Result(
            "pairs",
            f"export {n:,} pairs / plain write_table",
            ratio,
            "ratio",
            "<= 1.5",
            ratio <= 1.5,
            f"{ours:.1f} s vs {plain:.1f} s",
        ),
        Result(
            "pairs",
            "export peak memory growth",
            ours_growth,
            "MB",
            "< 300",
            ours_growth < 300,
            f"plain (all rows fetched at once): +{plain_growth:.0f} MB",
        ),
    ]
    return results


def _plain_export(dataset: PreferenceDataset, path: Path) -> None:
    """The plain way: one query for every column, fetched whole, one write_table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pe.attributes::text, pr.text, pa.rejected, pa.critique, pa.chosen, pr.topic, pa.id, "
            "pe.public_id::text, pa.prompt_id, pr.source_id, pr.topic, pa.split, pa.verification "
            "FROM benchmarks_preferencepair pa JOIN benchmarks_prompt pr ON pr.id = pa.prompt_id "
            "JOIN personas_persona pe ON pe.id = pa.persona_id WHERE pa.dataset_id = %s ORDER BY pa.split, pa.id",
            [dataset.pk],
        )
        rows = cursor.fetchall()
    texts: dict[str, str] = {}
    columns = list(zip(*rows, strict=True))
    columns[0] = [texts.get(a) or texts.setdefault(a, persona_to_text(json.loads(a))) for a in columns[0]]
    pq.write_table(pa.table(dict(zip(COLUMNS, columns, strict=True)), schema=SCHEMA), path, compression="zstd")


def run() -> list[Result]:
    call_command("migrate", verbosity=0)
    try:
        _cleanup()
        # Planning first, while the process is small, so its peak RSS is the plan's own.
        return _plan_and_export_or_why() + _generation() + _cost()
    finally:
        _cleanup()


def _plan_and_export_or_why() -> list[Result]:
    # The paper-scale rows are written by PostgreSQL itself (repeat/md5): SQLite would spend minutes on a GB of text.
    if connection.vendor != "postgresql":
        return [
            Result(
                "pairs",
                "planning + export at paper scale",
                float("nan"),
                "-",
                note="not run: needs PostgreSQL (DATABASE_URL=postgres://… bin/perf pairs)",
            )
        ]
    return _plan_and_export()
