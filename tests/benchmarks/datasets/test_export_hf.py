"""Every export, loaded the way its users load it: with Hugging Face ``datasets``, offline, warnings counted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.datasets.export import COLUMNS, dataset_export
from tests.benchmarks.datasets.conftest import dataset_full

pytestmark = pytest.mark.django_db

# Run in a fresh interpreter, so HF_HOME and HF_DATASETS_OFFLINE hold from the import of `datasets` on (it reads them
# once) and nothing it configures leaks into the test process. Prints, as JSON, each config's splits with their row
# counts and column types, and every warning and log record of WARNING or above that the load produced.
LOAD = """
import json, logging, sys, warnings

records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name}: {record.getMessage()}")


logging.getLogger().addHandler(Keep(logging.WARNING))
import datasets  # noqa: E402

datasets.disable_progress_bars()
datasets.logging.set_verbosity_warning()
datasets.logging.get_logger().addHandler(Keep(logging.WARNING))  # `datasets` does not propagate to the root logger
path, snippet = sys.argv[1], sys.argv[2]
out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    loaded = {"default": datasets.load_dataset(path)}
    if snippet:  # the card's own Loading section
        scope = {}
        exec(snippet, scope)
        loaded["card:ds"] = scope["ds"]
        if "rows" in scope:
            loaded["card:rows"] = scope["rows"]
for name, dd in loaded.items():
    out[name] = {split: [ds.num_rows, {k: str(v.dtype) for k, v in ds.features.items()}] for split, ds in dd.items()}
out["warnings"] = [str(w.message) for w in caught] + records
print(json.dumps(out))
"""

TYPES = {name: "int64" if name in ("pair_id", "prompt_id") else "string" for name in COLUMNS}


def hf_load(directory: Path, tmp_path: Path, *, card_snippet: str = "") -> dict:
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(directory.name), card_snippet],
        cwd=directory.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def card_python(card: str) -> str:
    """The card's Loading snippet."""
    match = re.search(r"```python\n(.*?)```", card, re.S)
    assert match, card
    return match.group(1)


@pytest.mark.parametrize("formats", [("parquet", "jsonl"), ("parquet",), ("jsonl",)], ids="+".join)
def test_every_export_loads_with_datasets_as_three_splits_without_a_warning(small_world, tmp_path, formats):
    dataset = dataset_full(name="persona-export")
    directory = tmp_path / dataset.name
    result = dataset_export(dataset=dataset, directory=directory, formats=formats)
    assert result.counts == {"train": 12, "test_seen": 6, "test_unseen": 6}

    card = (directory / "README.md").read_text()
    loaded = hf_load(directory, tmp_path, card_snippet=card_python(card))

    assert loaded.pop("warnings") == []
    expected = {split: [count, TYPES] for split, count in result.counts.items()}
    assert loaded["default"] == expected
    assert loaded["card:ds"] == expected
    if formats == ("parquet", "jsonl"):
        # JSON lines carry no schema: `datasets` infers the same types from the values.
        assert loaded["card:rows"] == expected
    else:
        assert "card:rows" not in loaded


def test_card_header_is_what_datasets_reads(small_world, tmp_path):
    """The YAML header alone (no loader) gives the splits, their sizes and the features, and no complaint."""
    from huggingface_hub import DatasetCard

    dataset = dataset_full(name='quoted: "name"')
    result = dataset_export(dataset=dataset, directory=tmp_path / "out")
    data = DatasetCard.load(tmp_path / "out" / "README.md").data
    assert data["pretty_name"] == dataset.name
    info = data["dataset_info"]
    assert {s["name"]: (s["num_examples"], s["num_bytes"]) for s in info["splits"]} == {
        split: (count, result.arrow_bytes[split]) for split, count in result.counts.items()
    }
    assert all(size > 0 for size in result.arrow_bytes.values())
    assert {f["name"]: f["dtype"] for f in info["features"]} == TYPES
    assert info["download_size"] == sum(
        (tmp_path / "out" / "data" / f"{split}-00000-of-00001.parquet").stat().st_size for split in result.counts
    )
