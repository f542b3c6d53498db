from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from personas.models import CensusDataset, Persona
from tests.personas.conftest import DICTIONARY_CSV, HOUSING_CSV, PERSON_CSV


def test_pums_import_and_generate_commands(db: None) -> None:
    out = StringIO()
    call_command(
        "pums_import",
        str(PERSON_CSV),
        dictionary=str(DICTIONARY_CSV),
        housing=str(HOUSING_CSV),
        stdout=out,
        stderr=StringIO(),
    )
    dataset = CensusDataset.objects.get()
    assert f"(id {dataset.pk})" in out.getvalue()
    call_command("personas_generate", dataset.pk, n=6, seed=3, stdout=StringIO())
    assert Persona.objects.filter(dataset=dataset).count() == 6


def test_pums_import_command_reports_bad_input(db: None, tmp_path: Path) -> None:
    empty = tmp_path / "psam_p01.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match=r"psam_p01\.csv: is empty\. Nothing was imported\."):
        call_command("pums_import", str(empty), dictionary=str(DICTIONARY_CSV), stdout=StringIO(), stderr=StringIO())
    assert CensusDataset.objects.count() == 0
