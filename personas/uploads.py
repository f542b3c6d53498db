"""Uploaded PUMS files → an import. The uploads are copied to a private temporary folder under their own names
(so errors name the file the user chose) and removed afterwards, whatever happens."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from personas.models import CensusDataset
from personas.pums.importer import census_dataset_import


def _save(folder: Path, upload: UploadedFile, slot: str) -> Path:
    # Only the base name of the client's file name is kept; the slot prefix keeps two equal names apart.
    path = folder / slot / Path(upload.name or slot).name
    path.parent.mkdir()
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


def census_dataset_import_uploads(
    *, person: UploadedFile, dictionary: UploadedFile, housing: UploadedFile | None = None, name: str = ""
) -> CensusDataset:
    """Import uploaded files atomically; raises ``PumsInputError`` (naming the file) on bad input."""
    root = Path(settings.DATA_DIR) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    try:
        return census_dataset_import(
            person_path=_save(folder, person, "person"),
            dictionary_path=_save(folder, dictionary, "dictionary"),
            housing_path=_save(folder, housing, "housing") if housing else None,
            name=name,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
