"""Benchmark jobs: running a judge; importing pairs, prompts and released datasets; classifying prompts; planning,
generating and verifying preference datasets; running a PERSONA Bench run."""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.defaultfilters import pluralize
from django.urls import reverse

from benchmarks.bench.loo import loo_run_execute
from benchmarks.bench.models import BenchRun, Evaluation
from benchmarks.bench.services import BENCH_RUN_JOB, bench_run_execute
from benchmarks.datasets.export import DATASET_EXPORT_JOB, dataset_export_archive
from benchmarks.datasets.import_job import DATASET_IMPORT_JOB, dataset_import_dataset, dataset_import_run
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import DATASET_PLAN_JOB, dataset_plan
from benchmarks.datasets.shards import SHARD_JOB, stage_job_run, stage_shard_run
from benchmarks.datasets.stages import STAGE_JOBS, Stage
from benchmarks.judging.models import Judge
from benchmarks.judging.services import JUDGE_RUN_JOB, judgments_run
from benchmarks.pairs.importing import PAIRS_IMPORT_JOB, pairs_import_batch, pairs_import_run
from benchmarks.prompts.filters import PROMPT_CLASSIFY_JOB, prompts_classify
from benchmarks.prompts.import_job import PROMPTS_IMPORT_JOB, prompts_import_run
from core.job_registry import HandlerRun
from core.jobs import JobFact, JobRun, register_job_kind
from core.llm.models import ModelEndpoint
from core.models import Job


@register_job_kind(JUDGE_RUN_JOB, label="Run a judge")
def judge_run(job: JobRun) -> None:
    """Judge every (persona, pair) item in both orders; items already judged are skipped."""
    judge = Judge.objects.select_related("endpoint").get(pk=job.params["judge_id"])
    items = [(int(persona_id), int(pair_id)) for persona_id, pair_id in job.params["items"]]
    judgments_run(judge=judge, items=items, job=job)


def pairs_import_outcome(job: Job) -> JobFact | None:
    batch = pairs_import_batch(job)
    if batch is None:
        return None
    url = f"{reverse('pair-list')}?{urlencode({'batch': batch.pk})}"
    return JobFact(label="Pairs", value=f"See the imported pairs ({batch.name})", url=url)


@register_job_kind(PAIRS_IMPORT_JOB, label="Import preference pairs", outcome=pairs_import_outcome)
def pairs_import_job(job: JobRun) -> None:
    pairs_import_run(job)


def prompts_import_outcome(job: Job) -> JobFact:
    value = f"See the prompts ({job.total} distinct in {job.params.get('name', 'the file')})"
    return JobFact(label="Prompts", value=value, url=reverse("prompt-list"))


@register_job_kind(PROMPTS_IMPORT_JOB, label="Import prompts", outcome=prompts_import_outcome)
def prompts_import_job(job: JobRun) -> None:
    prompts_import_run(job)


def _dataset(job: JobRun) -> PreferenceDataset:
    return PreferenceDataset.objects.select_related("generator", "verifier__endpoint").get(pk=job.params["dataset_id"])


@register_job_kind(PROMPT_CLASSIFY_JOB, label="Classify prompts (controversy)")
def prompt_classify(job: JobRun) -> None:
    """Ask the endpoint whether each prompt that passed the form check would split opinion."""
    prompts_classify(endpoint=ModelEndpoint.objects.get(pk=job.params["endpoint_id"]), run=job)


@register_job_kind(DATASET_PLAN_JOB, label="Plan a preference dataset")
def dataset_plan_job(job: JobRun) -> None:
    dataset_plan(dataset=_dataset(job), run=job)


@register_job_kind(STAGE_JOBS[Stage.ANSWER], label="Dataset stage: y_l answers")
def dataset_answer_job(job: JobRun) -> None:
    stage_job_run(dataset=_dataset(job), stage=Stage.ANSWER, job=job)


@register_job_kind(STAGE_JOBS[Stage.CRITIQUE], label="Dataset stage: critiques")
def dataset_critique_job(job: JobRun) -> None:
    stage_job_run(dataset=_dataset(job), stage=Stage.CRITIQUE, job=job)


@register_job_kind(STAGE_JOBS[Stage.REVISE], label="Dataset stage: revisions y_w")
def dataset_revise_job(job: JobRun) -> None:
    stage_job_run(dataset=_dataset(job), stage=Stage.REVISE, job=job)


@register_job_kind(STAGE_JOBS[Stage.VERIFY], label="Dataset: verification")
def dataset_verify_job(job: JobRun) -> None:
    stage_job_run(dataset=_dataset(job), stage=Stage.VERIFY, job=job)


@register_job_kind(SHARD_JOB, label="Dataset stage: one shard")
def dataset_stage_shard_job(job: HandlerRun) -> None:
    """Part of a stage's job (its parent), over a range of personas; any free worker takes it."""
    assert isinstance(job, JobRun)  # what core.jobs hands every handler
    stage_shard_run(dataset=_dataset(job), job=job)


@register_job_kind(BENCH_RUN_JOB, label="PERSONA Bench run")
def bench_run_job(job: JobRun) -> None:
    """Answer, critique and analyse every key of the run (or its leave-one-out stages); stored keys are skipped."""
    bench_run = BenchRun.objects.get(pk=job.params["run_id"])
    if bench_run.evaluation == Evaluation.LEAVE_ONE_OUT:
        loo_run_execute(bench_run=bench_run, job=job)
    else:
        bench_run_execute(bench_run=bench_run, job=job)


@register_job_kind(DATASET_EXPORT_JOB, label="Dataset: export (Parquet + JSONL + card, zipped)")
def dataset_export_job(job: JobRun) -> None:
    dataset_export_archive(dataset=_dataset(job), run=job)


def dataset_import_outcome(job: Job) -> JobFact | None:
    dataset = dataset_import_dataset(job)
    if dataset is None:
        return None
    url = reverse("dataset-detail", args=[dataset.pk])
    pairs = dataset.pairs.count()
    return JobFact(label="Dataset", value=f"See the dataset {dataset.name} ({pairs} pair{pluralize(pairs)})", url=url)


@register_job_kind(DATASET_IMPORT_JOB, label="Import a released dataset", outcome=dataset_import_outcome)
def dataset_import_job(job: JobRun) -> None:
    dataset_import_run(job)
