"""Personas benchmark: import a generated full-state-sized PUMS person file (400,000 rows x 286 columns)
and compare with a plain ``pandas.read_csv(dtype=str)`` of the same file; report peak memory; time the sampling
of 1,586 personas. Each measurement runs in a fresh child process so peak RSS belongs to it alone."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from perf.result import Result

ROWS = 400_000
COLUMNS = 286
CHUNK_ROWS = 10_000
PERSONAS = 1586
NAME = "personas"

# Codes that decode through the project's trimmed 2018 fixture dictionary.
CODES = {
    "AGEP": [str(a) for a in range(0, 95)],
    "SEX": ["1", "2"],
    "RAC1P": ["1", "2", "3", "6", "9"],
    "ANC1P": ["032", "050", "022", "210", "939", "999"],
    "SCHL": ["", "01", "11", "16", "18", "19", "20", "21", "22"],
    "ESR": ["", "1", "3", "6"],
    "COW": ["", "1", "2", "3", "6"],
    "INDP": ["", "0170", "7860", "8191", "4971"],
    "OCCP": ["", "6005", "2310", "3255", "4760"],
    "PINCP": ["", "0", "12000", "38000", "56300", "91000", "240000"],
    "MAR": ["1", "2", "3", "4", "5"],
    "POBP": ["056", "008", "049", "006", "303"],
    "CIT": ["1", "4", "5"],
    "MIL": ["", "2", "4"],
    "DIS": ["1", "2"],
    "HICOV": ["1", "2"],
    "DREM": ["", "1", "2"],
    "ENG": ["", "1", "2", "3"],
    "DEYE": ["1", "2"],
    "FER": ["", "1", "2"],
    "DEAR": ["1", "2"],
}
FIXED = ["RT", "SERIALNO", "DIVISION", "SPORDER", "PUMA", "REGION", "ST", "ADJINC", "PWGTP"]


def _header() -> list[str]:
    replicate = [f"PWGTP{i}" for i in range(1, 81)]
    named = FIXED + list(CODES) + replicate
    flags = [f"F{i:03d}P" for i in range(COLUMNS - len(named))]
    return named + flags


def _chunk_text(rng: np.random.Generator) -> str:
    """One block of CHUNK_ROWS rows as CSV text; "@@" in SERIALNO is replaced by the block number."""
    columns: list[np.ndarray] = [
        np.full(CHUNK_ROWS, "P"),
        np.char.add("2018HU@@", np.char.zfill(np.arange(CHUNK_ROWS).astype(str), 5)),
        np.full(CHUNK_ROWS, "8"),
        np.full(CHUNK_ROWS, "01"),
        np.full(CHUNK_ROWS, "00300"),
        np.full(CHUNK_ROWS, "4"),
        np.full(CHUNK_ROWS, "56"),
        np.full(CHUNK_ROWS, "1013097"),
        rng.integers(1, 400, CHUNK_ROWS).astype(str),
    ]
    columns += [rng.choice(np.array(values, dtype=object), CHUNK_ROWS).astype(str) for values in CODES.values()]
    columns += [rng.integers(0, 400, CHUNK_ROWS).astype(str) for _ in range(80)]
    flags = COLUMNS - len(columns)
    columns += [rng.integers(0, 2, CHUNK_ROWS).astype(str) for _ in range(flags)]
    matrix = np.stack(columns, axis=1)
    return "\n".join(",".join(row) for row in matrix.tolist()) + "\n"


def file_generate(path: Path, rows: int = ROWS) -> None:
    rng = np.random.default_rng(2018)
    block = _chunk_text(rng)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(_header()) + "\n")
        for number in range(rows // CHUNK_ROWS):
            handle.write(block.replace("@@", f"{number % 100:02d}"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class RssWatcher:
    """Samples this process's resident memory every 10 ms while a block runs; keeps the highest value."""

    def __enter__(self) -> RssWatcher:
        import threading

        self.start_mb = self.peak_mb = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_mb = max(self.peak_mb, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, _rss_mb())


def _child_pandas(path: str) -> dict[str, float]:
    import pandas as pd

    started = time.perf_counter()
    with RssWatcher() as watcher:
        frame = pd.read_csv(path, dtype=str)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": float(len(frame)), "peak_mb": watcher.peak_mb, "start_mb": watcher.start_mb}


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def _child_migrate(path: str) -> dict[str, float]:
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def _child_import(path: str) -> dict[str, float]:
    _django()
    from personas.models import Persona
    from personas.pums.importer import census_dataset_import
    from personas.sampling import personas_sample
    from personas.services import census_dataset_delete, personas_generate

    fixtures = Path(__file__).resolve().parents[1] / "personas" / "data" / "pums_demo"
    with RssWatcher() as watcher:
        started = time.perf_counter()
        dataset = census_dataset_import(
            person_path=path, dictionary_path=fixtures / "PUMS_Data_Dictionary_2018.csv", name="perf benchmark"
        )
        seconds = time.perf_counter() - started
    started = time.perf_counter()
    sample = personas_sample(dataset=dataset, n=PERSONAS, seed=1)
    sample_seconds = time.perf_counter() - started
    started = time.perf_counter()
    personas_generate(dataset=dataset, n=PERSONAS, seed=1)
    generate_seconds = time.perf_counter() - started
    Persona.objects.filter(dataset=dataset).delete()
    census_dataset_delete(dataset=dataset)
    return {
        "seconds": seconds,
        "rows": float(dataset.rows),
        "peak_mb": watcher.peak_mb,
        "baseline_mb": watcher.start_mb,
        "sample_seconds": sample_seconds,
        "sampled": float(len(sample)),
        "generate_seconds": generate_seconds,
    }


def _measure(kind: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "perf.bench_personas", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run() -> list[Result]:
    from django.conf import settings

    folder = Path(tempfile.mkdtemp(dir=settings.DATA_DIR))
    try:
        path = folder / "psam_p56_bench.csv"
        started = time.perf_counter()
        file_generate(path)
        size_mb = path.stat().st_size / 1e6
        print(f"  generated {size_mb:.0f} MB in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        _measure("child-migrate", path)
        baseline = _measure("child-pandas", path)
        ours = _measure("child-import", path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratio = ours["seconds"] / baseline["seconds"]
    note = f"{int(ours['rows']):,} rows x {COLUMNS} cols, {size_mb:.0f} MB"
    return [
        Result(NAME, "import time", ours["seconds"], "s", note=note),
        Result(NAME, "pandas.read_csv(dtype=str) time", baseline["seconds"], "s", note=note),
        Result(NAME, "import / read_csv", ratio, "x", "<= 2", ratio <= 2),
        Result(NAME, "import throughput", ours["rows"] / ours["seconds"], "rows/s"),
        Result(NAME, "import peak RSS", ours["peak_mb"], "MB", note=f"{ours['baseline_mb']:.0f} MB before the import"),
        Result(NAME, "import memory growth", ours["peak_mb"] - ours["baseline_mb"], "MB", note="bounded by batches"),
        Result(NAME, "read_csv peak RSS", baseline["peak_mb"], "MB", note=f"{baseline['start_mb']:.0f} MB before"),
        Result(NAME, f"sample {PERSONAS} personas", ours["sample_seconds"], "s", "< 5", ours["sample_seconds"] < 5),
        Result(NAME, f"generate {PERSONAS} (sample+enrich+rules+store)", ours["generate_seconds"], "s"),
    ]


if __name__ == "__main__":
    kind, target = sys.argv[1], sys.argv[2]
    measure = {"child-pandas": _child_pandas, "child-import": _child_import, "child-migrate": _child_migrate}[kind]
    print(json.dumps(measure(target)))
