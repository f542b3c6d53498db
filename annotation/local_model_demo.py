"""The demo with a real model: the local Gemma server (``manage.py llm_local_server``, the ``local-model`` group)
judges the demo report's study beside the offline baselines, answers a small PERSONA Bench run and generates and
verifies a few preference pairs. ``bin/demo`` runs it (``manage.py local_model_demo``) once the server answers.

Each piece is a job run in this process, so it is listed on the jobs page with its outcome, and idempotent: a second
demo start asks only what is missing (stored replies are skipped by the work loops themselves).
"""

from __future__ import annotations

import time

from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY, report_demo_ensure
from annotation.selectors import study_items
from benchmarks.bench.config import BenchConfigError, bench_config_parse
from benchmarks.bench.models import BenchRun
from benchmarks.bench.services import bench_run_create, bench_run_start
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import DatasetError, dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.datasets.verification import dataset_verify
from benchmarks.judging.services import judge_run_start, judge_upsert
from core.jobs import job_execute
from core.llm.local_server import DEFAULT_NAME
from core.llm.models import ModelEndpoint
from core.models import Job

LOCAL_JUDGE = "local-gemma"
LOCAL_BENCH = "Demo: local Gemma 3 270M, persona method"
LOCAL_DATASET = "demo-local-gemma"
# A 270M model on two cores answers in seconds: the demo keeps to a few items of each kind.
JUDGE_ITEMS = 6
BENCH_ITEMS = 4
WAIT_SECONDS = 1800


def _finished(job: Job) -> str:
    job_execute(job_id=job.pk)  # here, unless the demo's worker took it first: then wait for the worker
    job.refresh_from_db()
    deadline = time.monotonic() + WAIT_SECONDS
    while job.is_active and time.monotonic() < deadline:
        time.sleep(1)
        job.refresh_from_db()
    return f"job #{job.pk} {job.get_status_display().lower()} ({job.done} done, {job.failed} failed or invalid)"


def _judge_line(endpoint: ModelEndpoint) -> str:
    report_demo_ensure()  # the report's study, its simulated raters and the offline baselines
    study = Study.objects.get(name=DEMO_REPORT_STUDY)
    judge = judge_upsert(name=LOCAL_JUDGE, endpoint=endpoint, with_confidence=False)
    items = [(item.persona_id, item.pair_id) for item in study_items(study=study)][:JUDGE_ITEMS]
    job = judge_run_start(judge=judge, items=items, label="demo report study")
    return f"judge {LOCAL_JUDGE} on '{study.name}' (report at /studies/{study.pk}/report/): {_finished(job)}"


def _bench_line(endpoint: ModelEndpoint) -> str:
    if BenchRun.objects.filter(name=LOCAL_BENCH).exists():
        return "bench run already there"
    config = {
        "name": LOCAL_BENCH,
        "models": [endpoint.name],
        "methods": ["persona"],
        "critic": endpoint.name,
        "items": BENCH_ITEMS,
        "samples": 1,
        "k": 1,
        "seed": 1,
        "source": {"pairs": ["test_seen", "test_unseen"], "dataset": "demo-offline"},
    }
    try:
        bench_run = bench_run_create(config=bench_config_parse(config))
    except BenchConfigError as exc:
        return f"bench run not started ({exc})"
    return f"bench run #{bench_run.pk}: {_finished(bench_run_start(bench_run=bench_run))}"


def _pairs_line(endpoint: ModelEndpoint) -> str:
    dataset = PreferenceDataset.objects.filter(name=LOCAL_DATASET).first()
    if dataset is None:
        # A judge of its own, so the report's local judge holds only the report study's judgments.
        verifier = judge_upsert(name=f"{LOCAL_JUDGE}-verifier", endpoint=endpoint, with_confidence=False)
        dataset = PreferenceDataset.objects.create(
            name=LOCAL_DATASET,
            description="Demo: pairs written and verified by the local Gemma 3 270M server.",
            generator=endpoint,
            verifier=verifier,
            train_per_persona=1,
            test_seen_per_persona=0,
            test_unseen_per_persona=0,
            seed=1,
            use_batch=False,
        )
        try:
            dataset_plan(dataset=dataset)
        except DatasetError as exc:
            return f"dataset {LOCAL_DATASET} not planned: {exc}"
    for stage in (stage_answer_run, stage_critique_run, stage_revise_run):
        stage(dataset=dataset)
    verified = dataset_verify(dataset=dataset)
    return f"dataset {LOCAL_DATASET}: {dataset.pairs.count()} pairs generated, {verified} verified"


def local_model_demo_run(*, endpoint_name: str = DEFAULT_NAME) -> list[str]:
    """Judge, bench and pairs on the local model endpoint; one line each for bin/demo's output."""
    endpoint = ModelEndpoint.objects.filter(name=endpoint_name).first()
    if endpoint is None:
        return [f"Local model: no endpoint {endpoint_name!r} (manage.py llm_local_server registers it)."]
    return [f"Local model: {line}" for line in (_judge_line(endpoint), _bench_line(endpoint), _pairs_line(endpoint))]
