from __future__ import annotations

import pytest

from benchmarks.datasets.models import PreferenceDataset
from benchmarks.demo import DEMO_DATASET, dataset_demo_ensure
from core.demo import DEMO_STEPS
from personas.demo import DEMO_NAME, demo_personas_ensure
from personas.models import CensusDataset

pytestmark = pytest.mark.django_db


def test_demo_makes_a_verified_offline_dataset_once(data_dir):
    assert dataset_demo_ensure in DEMO_STEPS
    assert DEMO_STEPS.index(demo_personas_ensure) < DEMO_STEPS.index(dataset_demo_ensure)
    demo_personas_ensure()
    line = dataset_demo_ensure()
    dataset = PreferenceDataset.objects.get(name=DEMO_DATASET)
    assert dataset.pairs.count() > 0, line
    assert dataset.pairs.exclude(verification="unchecked").exists()
    assert "already there" in dataset_demo_ensure()
    assert PreferenceDataset.objects.count() == 1
    # The census records the demo imported went to this test's own data folder, not PERSONA_LAB_DATA_DIR.
    assert CensusDataset.objects.get(name=DEMO_NAME).records_file.parent.parent == data_dir
