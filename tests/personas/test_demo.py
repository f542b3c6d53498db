from __future__ import annotations

from core.demo import DEMO_STEPS
from personas.demo import DEMO_COUNT, demo_personas_ensure
from personas.models import CensusDataset, Persona


def test_demo_step_is_registered_idempotent_and_writes_eight_personas(db: None) -> None:
    assert demo_personas_ensure in DEMO_STEPS
    first = demo_personas_ensure()
    second = demo_personas_ensure()
    assert "(8 new)" in first
    assert "(0 new)" in second
    assert CensusDataset.objects.count() == 1
    assert Persona.objects.count() == DEMO_COUNT


def test_demo_after_its_dataset_was_deleted_takes_its_personas_back(db: None) -> None:
    demo_personas_ensure()
    CensusDataset.objects.all().delete()  # personas are kept (dataset set to NULL)
    message = demo_personas_ensure()
    assert "with 8 personas (0 new)" in message
    assert Persona.objects.filter(dataset__isnull=True).count() == 0
