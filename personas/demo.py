"""The demo step: import the project's small census fixture once, sample eight personas from it, and have the
offline text baseline write the open-ended profile of half of them (the other half keep the curated draw, so the
persona pages show both sources)."""

from __future__ import annotations

from pathlib import Path

from core.llm.endpoints import llm_demo_endpoints_ensure
from core.llm.models import ModelEndpoint
from personas.llm_profile import personas_llm_profile
from personas.models import CensusDataset, Persona
from personas.pums.importer import census_dataset_import
from personas.services import personas_generate

DEMO_DIR = Path(__file__).parent / "data" / "pums_demo"
DEMO_NAME = "Demo census (synthetic, Wyoming-style)"
DEMO_SEED, DEMO_COUNT = 2018, 8


def demo_personas_ensure() -> str:
    """Idempotent: reuses the demo dataset and its personas when they exist."""
    dataset = CensusDataset.objects.filter(name=DEMO_NAME).first()
    if dataset is None or not dataset.records_file.exists():
        dataset = census_dataset_import(
            person_path=DEMO_DIR / "psam_p56_fixture.csv",
            housing_path=DEMO_DIR / "psam_h56_fixture.csv",
            dictionary_path=DEMO_DIR / "PUMS_Data_Dictionary_2018.csv",
            name=DEMO_NAME,
        )
    result = personas_generate(dataset=dataset, n=DEMO_COUNT, seed=DEMO_SEED)
    total = Persona.objects.filter(dataset=dataset).count()
    llm_demo_endpoints_ensure()
    writer = ModelEndpoint.objects.get(name="offline-text")
    consistent = list(Persona.objects.filter(dataset=dataset).consistent().order_by("id"))
    counts = personas_llm_profile(personas=consistent[: len(consistent) // 2], endpoint=writer)
    written = sum(1 for p in Persona.objects.filter(dataset=dataset) if p.profile_check.get("outcome") == "written")
    return (
        f"Personas: demo census dataset #{dataset.pk} with {total} personas ({result.created} new); "
        f"{written} with an LLM-written profile ({sum(counts.values())} new)."
    )
