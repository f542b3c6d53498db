"""The demo step: prompts from a small PRISM-format cluster file, filtered, classified, clustered and split, then a
small preference dataset for the demo personas made with the offline ``text`` generator and verified by the
offline persona-overlap judge (no key, no network)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.datasets.planning import DatasetError, dataset_personas, dataset_plan
from benchmarks.datasets.stages import stage_answer_run, stage_critique_run, stage_revise_run
from benchmarks.datasets.verification import dataset_verify
from benchmarks.judging.services import baseline_judges_ensure
from benchmarks.prompts.filters import prompts_classify, prompts_form_check
from benchmarks.prompts.importing import prompts_import
from benchmarks.prompts.models import Prompt
from benchmarks.prompts.topics import prompts_cluster, prompts_split
from core.llm.endpoints import llm_demo_endpoints_ensure
from core.llm.models import ModelEndpoint

DEMO_PROMPTS = Path(__file__).parent / "data" / "demo_prompt_clusters.csv"
DEMO_DATASET = "demo-offline"
DEMO_SEED = 2024


def dataset_demo_ensure() -> str:
    """Idempotent: skips what exists. Returns one line for bin/demo's output."""
    if PreferenceDataset.objects.filter(name=DEMO_DATASET).exists():
        return f"Preference data: dataset {DEMO_DATASET} already there."
    llm_demo_endpoints_ensure()
    imported = prompts_import(data=DEMO_PROMPTS.read_bytes(), name=DEMO_PROMPTS.name)
    prompts_form_check(prompts=Prompt.objects.all())
    generator = ModelEndpoint.objects.get(name="offline-text")
    prompts_classify(endpoint=generator)
    prompts_cluster(k=3, seed=DEMO_SEED)
    prompts_split(seed=DEMO_SEED)
    verifier = next(j for j in baseline_judges_ensure() if j.name == "baseline-persona-overlap")
    dataset = PreferenceDataset(
        name=DEMO_DATASET,
        description="Demo: offline text generator, offline persona-overlap verifier, demo personas and prompts.",
        generator=generator,
        verifier=verifier,
        train_per_persona=3,
        test_seen_per_persona=2,
        test_unseen_per_persona=1,
        seed=DEMO_SEED,
        use_batch=False,
    )
    if not dataset_personas(dataset).exists():
        return f"Preference data: {imported.created} demo prompts imported; no consistent persona for a dataset."
    dataset.save()
    try:
        dataset_plan(dataset=dataset)
    except DatasetError as exc:
        return f"Preference data: {imported.created} demo prompts imported; dataset not planned: {exc}"
    stage_answer_run(dataset=dataset)
    stage_critique_run(dataset=dataset)
    stage_revise_run(dataset=dataset)
    verified = dataset_verify(dataset=dataset)
    return (
        f"Preference data: {imported.created} demo prompts, {Prompt.objects.kept().count()} kept; dataset "
        f"{DEMO_DATASET} with {dataset.pairs.count()} pairs ({verified} verified)."
    )
