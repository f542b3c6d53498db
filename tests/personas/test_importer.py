from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings

from personas.models import CensusDataset
from personas.pums.errors import PumsInputError
from personas.pums.importer import census_dataset_import
from tests.personas.conftest import DICTIONARY_CSV, HOUSING_CSV, PERSON_CSV, make_zip


def stored_files() -> list[Path]:
    folder = Path(settings.DATA_DIR) / "pums"
    return sorted(folder.glob("*")) + sorted(folder.glob(".*")) if folder.exists() else []


def test_import_joins_housing_and_stores_weighted_marginals(dataset: CensusDataset) -> None:
    person = pd.read_csv(PERSON_CSV, dtype=str)
    assert dataset.rows == 31
    assert dataset.year == 2018
    assert dataset.state == "Wyoming/WY"
    assert dataset.weight_total == person["PWGTP"].astype(int).sum()
    assert dataset.columns["household type"] == "HHT"  # from the housing file
    for key, marginal in dataset.marginals.items():
        assert sum(marginal.values()) == pytest.approx(dataset.weight_total), key
    # Weighted, decoded: women's weight from the raw file equals the "Female" marginal.
    women = person.loc[person["SEX"] == "2", "PWGTP"].astype(int).sum()
    assert dataset.marginals["sex"]["Female"] == women
    # Group-quarters persons have no household: not applicable.
    assert dataset.marginals["household type"]["(not applicable)"] > 0
    assert dataset.records_file.exists()


def test_income_is_adjusted_by_adjinc(dataset: CensusDataset) -> None:
    records = pd.read_parquet(dataset.records_file)
    first = records.iloc[0]
    assert first["PINCP"] == "73000"
    assert first["INCOME_ADJ"] == round(73000 * 1.013097)


def test_import_reads_the_census_zip(db: None, tmp_path: Path) -> None:
    person_zip = make_zip(tmp_path / "csv_pwy.zip", "psam_p56.csv", PERSON_CSV.read_bytes())
    housing_zip = make_zip(tmp_path / "csv_hwy.zip", "psam_h56.csv", HOUSING_CSV.read_bytes())
    dataset = census_dataset_import(person_path=person_zip, housing_path=housing_zip, dictionary_path=DICTIONARY_CSV)
    assert dataset.rows == 31
    assert dataset.person_file == "csv_pwy.zip"


def test_without_a_housing_file_household_keys_are_absent(db: None) -> None:
    dataset = census_dataset_import(person_path=PERSON_CSV, dictionary_path=DICTIONARY_CSV)
    assert "household type" not in dataset.columns
    assert "household type" not in dataset.marginals


def _bad_inputs(tmp_path: Path) -> list[tuple[str, dict[str, Path], str]]:
    person = PERSON_CSV.read_text()
    header, *rows = person.splitlines()
    missing = tmp_path / "missing_sex.csv"
    columns = header.split(",")
    drop = columns.index("SEX")
    missing.write_text(
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in [header, *rows]) + "\n"
    )
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "header_only.csv"
    header_only.write_text(header + "\n")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(person.replace("Wyoming", "x").encode().replace(b",022,", b",\xe9\xe9\xe9,", 1))
    truncated = make_zip(tmp_path / "truncated.zip", "psam_p56.csv", person.encode() * 50)
    truncated.write_bytes(truncated.read_bytes()[:1500])
    dictionary_2021 = tmp_path / "PUMS_Data_Dictionary_2021.csv"
    dictionary_2021.write_text(DICTIONARY_CSV.read_text().replace('"2018', '"2021').replace(",2018", ",2021"))
    return [
        ("missing_sex.csv", {"person_path": missing}, "missing the column(s) SEX"),
        ("empty.csv", {"person_path": empty}, "is empty"),
        ("header_only.csv", {"person_path": header_only}, "no data rows"),
        ("latin1.csv", {"person_path": latin}, "not UTF-8"),
        ("truncated.zip", {"person_path": truncated}, "truncated or damaged zip"),
        ("PUMS_Data_Dictionary_2021.csv", {"dictionary_path": dictionary_2021}, "2021 dictionary but"),
        ("psam_h56_fixture.csv", {"person_path": HOUSING_CSV}, "looks like a housing file"),
    ]


def test_bad_input_names_the_file_and_stores_nothing(db: None, tmp_path: Path) -> None:
    for filename, override, problem in _bad_inputs(tmp_path):
        paths = {"person_path": PERSON_CSV, "dictionary_path": DICTIONARY_CSV, **override}
        with pytest.raises(PumsInputError) as caught:
            census_dataset_import(**paths)
        message = str(caught.value)
        assert message.startswith(f"{filename}: "), message
        assert problem in message, message
        assert CensusDataset.objects.count() == 0
        assert stored_files() == []


def test_a_failure_after_reading_leaves_no_file(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(CensusDataset.objects, "create", explode)
    with pytest.raises(RuntimeError):
        census_dataset_import(person_path=PERSON_CSV, dictionary_path=DICTIONARY_CSV)
    assert stored_files() == []


def test_deleting_a_dataset_removes_its_records_file(
    dataset: CensusDataset, django_capture_on_commit_callbacks: object
) -> None:
    from personas.services import census_dataset_delete

    path = dataset.records_file
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        census_dataset_delete(dataset=dataset)
    assert not path.exists()
    assert CensusDataset.objects.count() == 0


def test_year_drift_state_and_hht2_columns(db: None, tmp_path: Path) -> None:
    """Later surveys name the state STATE in some extracts and carry HHT2 instead of HHT: both are understood."""
    person = tmp_path / "psam_p56.csv"
    header, rest = PERSON_CSV.read_text().split("\n", 1)
    person.write_text(header.replace(",ST,", ",STATE,") + "\n" + rest)
    housing = tmp_path / "psam_h56.csv"
    header, rest = HOUSING_CSV.read_text().split("\n", 1)
    housing.write_text(header.replace(",HHT,", ",HHT2,") + "\n" + rest.replace(",1,2\n", ",01,2\n"))
    dictionary = tmp_path / "PUMS_Data_Dictionary_2018.csv"
    dictionary.write_text(
        DICTIONARY_CSV.read_text().replace("NAME,ST,", "NAME,STATE,").replace("VAL,ST,", "VAL,STATE,")
        + 'NAME,HHT2,C,2,"Household/family type (includes cohabiting)"\n'
        + 'VAL,HHT2,C,2,"01","01","Married couple household with children of the householder less than 18"\n'
    )
    dataset = census_dataset_import(person_path=person, housing_path=housing, dictionary_path=dictionary)
    assert dataset.columns["household type"] == "HHT2"
    assert dataset.state == "Wyoming/WY"
    assert (
        "Married couple household with children of the householder less than 18" in dataset.marginals["household type"]
    )


OTHER_STATE_HOUSING_CSV = HOUSING_CSV.parent / "psam_h02_fixture.csv"  # same layout, serial numbers of another state


def test_housing_file_of_another_state_is_refused_with_the_join_rate(db: None) -> None:
    with pytest.raises(PumsInputError, match=r"^psam_h02_fixture\.csv: .*only 0 of 31 persons \(0%\)"):
        census_dataset_import(
            person_path=PERSON_CSV, housing_path=OTHER_STATE_HOUSING_CSV, dictionary_path=DICTIONARY_CSV
        )
    assert CensusDataset.objects.count() == 0
    assert stored_files() == []


def test_partial_join_imports_with_a_loud_warning(db: None, tmp_path: Path) -> None:
    header, *rows = HOUSING_CSV.read_text().splitlines()
    housing = tmp_path / "psam_h56_partial.csv"
    housing.write_text("\n".join([header, *rows[:-3]]) + "\n")  # three households missing
    dataset = census_dataset_import(person_path=PERSON_CSV, housing_path=housing, dictionary_path=DICTIONARY_CSV)
    person = pd.read_csv(PERSON_CSV, dtype=str)
    missing = {row.split(",")[1] for row in rows[-3:]}
    expected = 1 - person["SERIALNO"].isin(missing).sum() / len(person)
    assert dataset.housing_join_rate == pytest.approx(expected)
    assert 0.5 <= expected < 0.95
    assert f"only {expected:.0%} of persons" in dataset.join_warning


def test_full_join_is_recorded_without_warning(dataset: CensusDataset) -> None:
    assert dataset.housing_join_rate == 1.0
    assert dataset.join_warning == ""


def test_dataset_names_stay_unique(db: None) -> None:
    first = census_dataset_import(person_path=PERSON_CSV, dictionary_path=DICTIONARY_CSV)
    second = census_dataset_import(person_path=PERSON_CSV, dictionary_path=DICTIONARY_CSV)
    third = census_dataset_import(person_path=PERSON_CSV, dictionary_path=DICTIONARY_CSV, name=first.name)
    assert first.name == "ACS 2018 PUMS Wyoming/WY"
    assert [second.name, third.name] == [f"{first.name} (2)", f"{first.name} (3)"]
