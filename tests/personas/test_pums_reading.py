from __future__ import annotations

from pathlib import Path

import pytest

from personas.pums.dictionary import dictionary_load
from personas.pums.errors import PumsInputError
from personas.pums.reader import csv_batches, csv_header
from tests.personas.conftest import DICTIONARY_CSV, PERSON_CSV, make_zip


def test_dictionary_decodes_zero_padded_codes_and_blanks() -> None:
    dictionary = dictionary_load(DICTIONARY_CSV)
    assert dictionary.year == 2018
    assert dictionary.decode("SCHL", "16") == "Regular high school diploma"
    assert dictionary.decode("SEX", "2") == "Female"
    assert dictionary.decode("SCHL", "") is None  # blank = not applicable
    assert dictionary.decode("HHT", "1") == "Married couple household"
    assert "HHT2" not in dictionary


def test_dictionary_rejects_a_file_that_is_not_one(tmp_path: Path) -> None:
    bogus = tmp_path / "PUMS_Data_Dictionary_2018.csv"
    bogus.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(PumsInputError, match=r"PUMS_Data_Dictionary_2018\.csv: line 1 is not a NAME or VAL row"):
        dictionary_load(bogus)


def test_reader_keeps_codes_as_strings_from_csv_and_zip(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "csv_p56.zip", "psam_p56.csv", PERSON_CSV.read_bytes())
    for source in (PERSON_CSV, archive):
        assert csv_header(source)[:3] == ["RT", "SERIALNO", "DIVISION"]
        batches = list(csv_batches(source, ["SERIALNO", "ANC1P", "SCHL"], block_size=1024))
        assert len(batches) > 1  # streamed in several blocks
        codes = [code for batch in batches for code in batch.column("ANC1P").to_pylist()]
        assert codes[0] == "022"  # zero padding kept
        assert sum(b.num_rows for b in batches) == 31


def test_reader_rejects_a_zip_with_two_csv_files(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x,y\n1,2\n")
        archive.writestr("b.csv", "x,y\n1,2\n")
    with pytest.raises(PumsInputError, match=r"two\.zip: the zip must hold exactly one \.csv file"):
        csv_header(path)
