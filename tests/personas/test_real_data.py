"""Checks against the real ACS PUMS samples and PERSONA personas in ../shared/data (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from personas.consistency import persona_rules_check
from personas.formats import persona_from_text, persona_to_text, personas_read_json, personas_write_jsonl
from personas.models import CensusDataset, Persona, PersonaStatus
from personas.pums.errors import PumsInputError
from personas.pums.importer import census_dataset_import
from personas.services import personas_generate, personas_import, prune_rate

WY = "pums_2018_1yr_psam_p56_WY_sample.csv"
AK_HOUSING = "pums_2018_1yr_psam_h02_AK_sample.csv"
RULE_FLAGS = Path(__file__).resolve().parents[1] / "fixtures" / "personas" / "persona_1000_rule_flags.json"


def _synthetic_wy_housing(shared: Path, folder: Path) -> Path:
    """AK and WY samples do not join: give the AK housing rows the WY serial numbers (AK header as template)."""
    housing = pd.read_csv(shared / AK_HOUSING, dtype=str, keep_default_na=False)
    serials = pd.read_csv(shared / WY, dtype=str, usecols=["SERIALNO"])["SERIALNO"].drop_duplicates()
    serials = serials[serials.str.contains("HU")].tolist()  # group-quarters persons have no housing row
    occupied = housing[housing["SERIALNO"].str.contains("HU") & (housing["HHT"] != "")]
    rows = occupied.head(len(serials)).copy()
    rows = pd.concat([rows] * (len(serials) // len(rows) + 1)).head(len(serials))
    rows["SERIALNO"] = serials
    rows["ST"] = "56"
    path = folder / "psam_h56_synthetic.csv"
    rows.to_csv(path, index=False)
    return path


def test_real_wyoming_sample_imports_with_the_2018_dictionary(shared_data: Path, db: None) -> None:
    dataset = census_dataset_import(
        person_path=shared_data / WY, dictionary_path=shared_data / "PUMS_Data_Dictionary_2018.csv"
    )
    raw = pd.read_csv(shared_data / WY, dtype=str)
    assert dataset.rows == len(raw) == 115
    assert dataset.weight_total == raw["PWGTP"].astype(int).sum()
    assert dataset.state == "Wyoming/WY"
    assert set(dataset.marginals["sex"]) == {"Male", "Female"}
    assert "Regular high school diploma" in dataset.marginals["education"]
    assert any(label.startswith("EDU-") for label in dataset.marginals["industry category"])


def test_real_sample_with_the_2021_dictionary_is_refused(shared_data: Path, db: None) -> None:
    with pytest.raises(PumsInputError, match=r"^PUMS_Data_Dictionary_2021\.csv: .*2021"):
        census_dataset_import(
            person_path=shared_data / WY, dictionary_path=shared_data / "PUMS_Data_Dictionary_2021.csv"
        )
    assert CensusDataset.objects.count() == 0


def test_real_housing_columns_join_on_serialno(shared_data: Path, db: None, tmp_path: Path) -> None:
    dataset = census_dataset_import(
        person_path=shared_data / WY,
        housing_path=_synthetic_wy_housing(shared_data, tmp_path),
        dictionary_path=shared_data / "PUMS_Data_Dictionary_2018.csv",
    )
    assert dataset.columns["household type"] == "HHT"
    assert "Married couple household" in dataset.marginals["household type"]
    group_quarters = pd.read_csv(shared_data / WY, dtype=str).query("SERIALNO.str.contains('GQ')")
    assert dataset.marginals["household type"]["(not applicable)"] == group_quarters["PWGTP"].astype(int).sum()


def test_prune_rate_of_the_real_wyoming_sample(shared_data: Path, db: None) -> None:
    dataset = census_dataset_import(
        person_path=shared_data / WY, dictionary_path=shared_data / "PUMS_Data_Dictionary_2018.csv"
    )
    result = personas_generate(dataset=dataset, n=dataset.rows, seed=0)
    personas = list(Persona.objects.filter(dataset=dataset))
    assert result.created == len(personas) == 115
    # Census records are edited by the Bureau: the rules find (almost) nothing to prune.
    assert prune_rate(personas=personas) <= 0.05


def test_real_persona_personas_parse_and_round_trip(shared_data: Path, db: None) -> None:
    strings = json.loads((shared_data / "persona_personas_sample25.json").read_text())
    parsed = list(personas_read_json((shared_data / "persona_personas_sample25.json").read_text()))
    assert len(parsed) == 25
    for text, attributes in zip(strings, parsed, strict=True):
        assert persona_from_text(persona_to_text(attributes)) == attributes
        assert len(attributes) == len([line for line in text.splitlines() if line.strip()])
    created = personas_import(personas=parsed)
    assert Persona.objects.count() == 25
    assert {p.status for p in created} <= {PersonaStatus.CONSISTENT, PersonaStatus.PRUNED}


def test_released_persona_strings_import_and_export_byte_identical(shared_data: Path, db: None) -> None:
    """All 1,025 released strings (the 1,000 and the sample of 25) through the database and back: not one byte
    changes (102 did: empty values dropped, optional keys moved after "religion", the final newline lost)."""
    strings = [
        *json.loads((shared_data / "persona_personas_1000.json").read_text()),
        *json.loads((shared_data / "persona_personas_sample25.json").read_text()),
    ]
    created = personas_import(personas=[persona_from_text(text) for text in strings])
    stored = Persona.objects.in_bulk([p.pk for p in created])
    exported = "".join(personas_write_jsonl(stored[p.pk].export_row() for p in created))
    assert [json.loads(line)["persona"] for line in exported.splitlines()] == strings


def test_rules_on_the_1000_real_persona_personas(shared_data: Path) -> None:
    """Exactly the reviewed flags: PERSONA's own wording ("Not employed", "None", "Non-Veteran") raises none."""
    expected = json.loads(RULE_FLAGS.read_text())
    personas = list(personas_read_json((shared_data / "persona_personas_1000.json").read_text()))
    assert len(personas) == expected["count"] == 1000
    flags = {str(index): reasons for index, p in enumerate(personas) if (reasons := persona_rules_check(p))}
    assert flags == expected["flags"]


def test_real_wyoming_persons_with_alaska_housing_are_refused(shared_data: Path, db: None) -> None:
    with pytest.raises(PumsInputError, match=r"only 0 of 115 persons \(0%\).*same state"):
        census_dataset_import(
            person_path=shared_data / WY,
            housing_path=shared_data / AK_HOUSING,
            dictionary_path=shared_data / "PUMS_Data_Dictionary_2018.csv",
        )
    assert CensusDataset.objects.count() == 0
