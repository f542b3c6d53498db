from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from personas.models import CensusDataset
from personas.pums.importer import census_dataset_import

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pums"
PERSON_CSV = FIXTURES / "psam_p56_fixture.csv"
HOUSING_CSV = FIXTURES / "psam_h56_fixture.csv"
DICTIONARY_CSV = FIXTURES / "PUMS_Data_Dictionary_2018.csv"
# The real validation data sits next to the checkout (../shared/data); a git worktree elsewhere names it with
# PERSONA_LAB_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get("PERSONA_LAB_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)


def make_zip(path: Path, member: str, data: bytes) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def dataset(db: None) -> CensusDataset:
    return census_dataset_import(person_path=PERSON_CSV, housing_path=HOUSING_CSV, dictionary_path=DICTIONARY_CSV)


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "pums_2018_1yr_psam_p56_WY_sample.csv").exists():
        pytest.skip(f"real validation data not present at {SHARED_DATA}")
    return SHARED_DATA
