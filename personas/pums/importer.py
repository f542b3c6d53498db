"""Import one PUMS extract: person file (+ optional housing file) decoded through its data dictionary.

The person file is streamed in record batches; each batch is joined to the housing rows on ``SERIALNO``, its
weighted marginals are added up, and its needed columns are appended to a Parquet records file. The dataset row
is written only when everything succeeded, so a failure leaves no half dataset (and no stray file).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

from core.uploads import name_unique
from personas.attributes import CENSUS_ATTRIBUTES
from personas.categories import NOT_APPLICABLE, attribute_category
from personas.models import MIN_JOIN_RATE, CensusDataset
from personas.pums.dictionary import PumsDictionary, dictionary_load
from personas.pums.errors import PumsInputError
from personas.pums.reader import BLOCK_SIZE, csv_batches, csv_header

logger = logging.getLogger(__name__)

STATE_VARIABLES = ("ST", "STATE")
RECORD_ID = "RECORD_ID"
JOINED = "_HOUSEHOLD_JOINED"  # per person: the housing file holds their household (counted, never stored)
INCOME = "INCOME_ADJ"  # PINCP * ADJINC / 1e6, in dollars of the survey year
NUMERIC_KEYS = {"age", "income"}


@dataclass(frozen=True)
class ColumnPlan:
    """Which PUMS column feeds each census attribute in this extract (year drift resolved)."""

    person: dict[str, str]  # attribute key → person-file column
    housing: dict[str, str]  # attribute key → housing-file column
    state: str

    @property
    def all(self) -> dict[str, str]:
        return {**self.person, **self.housing}


def _plan(person_path: Path, housing_path: Path | None, dictionary: PumsDictionary) -> ColumnPlan:
    person_header = set(csv_header(person_path))
    if "PWGTP" not in person_header and "WGTP" in person_header:
        raise PumsInputError(person_path, "looks like a housing file (WGTP, no PWGTP); give it as the housing file")
    housing_header = set(csv_header(housing_path)) if housing_path else set()
    if housing_path and "WGTP" not in housing_header and "PWGTP" in housing_header:
        raise PumsInputError(housing_path, "looks like a person file (PWGTP, no WGTP); give it as the person file")
    if housing_path and "SERIALNO" not in housing_header:
        raise PumsInputError(housing_path, "is missing the column SERIALNO")
    state = next((name for name in STATE_VARIABLES if name in person_header), None)
    missing = [name for name in ("SERIALNO", "SPORDER", "PWGTP", "ADJINC") if name not in person_header]
    if state is None:
        missing.append("ST (or STATE)")
    person: dict[str, str] = {}
    housing: dict[str, str] = {}
    for attribute in CENSUS_ATTRIBUTES:
        found = next((name for name in attribute.pums if name in person_header), None)
        if found:
            person[attribute.key] = found
            continue
        found = next((name for name in attribute.pums if name in housing_header), None)
        if found:
            housing[attribute.key] = found
        elif not attribute.household:  # household keys come from the housing file when the person file lacks them
            missing.append(" or ".join(attribute.pums))
        elif housing_path:
            raise PumsInputError(housing_path, f"is missing the column {' or '.join(attribute.pums)}")
    if missing:
        raise PumsInputError(person_path, f"is missing the column(s) {', '.join(missing)}")
    plan = ColumnPlan(person=person, housing=housing, state=state or "ST")
    undescribed = [name for name in plan.all.values() if name not in dictionary]
    if undescribed:
        raise PumsInputError(
            dictionary.path,
            f"does not describe {', '.join(undescribed)}: it looks like the dictionary of another survey year",
        )
    return plan


def _housing_frame(path: Path, columns: list[str]) -> pd.DataFrame:
    frames = [batch.to_pandas() for batch in csv_batches(path, ["SERIALNO", *columns])]
    frame = pd.concat(frames, ignore_index=True).drop_duplicates("SERIALNO")
    return frame.set_index("SERIALNO")


def _check_year(person_path: Path, serials: pd.Series, dictionary: PumsDictionary) -> None:
    first = str(serials.iloc[0]) if len(serials) else ""
    data_year = int(first[:4]) if first[:4].isdigit() else None
    if dictionary.year and data_year and dictionary.year != data_year:
        raise PumsInputError(
            dictionary.path,
            f"is the {dictionary.year} dictionary but {person_path.name} holds {data_year} records; "
            f"download PUMS_Data_Dictionary_{data_year}.csv",
        )


def _accumulate(
    marginals: dict[str, defaultdict[str, float]], frame: pd.DataFrame, plan: ColumnPlan, dictionary: PumsDictionary
) -> None:
    weights = frame["PWGTP"]
    for key, column in plan.all.items():
        source = frame[INCOME] if key == "income" else frame[column]
        sums = weights.groupby(source, sort=False, dropna=False).sum()
        target = marginals[key]
        for value, weight in sums.items():
            if key in NUMERIC_KEYS:
                category = attribute_category(key, value)
            else:
                category = dictionary.decode(column, str(value)) or NOT_APPLICABLE
            target[category] += float(weight)


def _check_join(housing: Path, *, joined: int, rows: int) -> None:
    rate = joined / rows if rows else 1.0
    if rate < MIN_JOIN_RATE:
        raise PumsInputError(
            housing,
            f"holds the household of only {joined} of {rows} persons ({rate:.0%}) on SERIALNO; it must come from "
            "the same state and survey year as the person file",
        )


def _adjusted_income(frame: pd.DataFrame, column: str) -> pd.Series:
    income = pd.to_numeric(frame[column], errors="coerce")
    factor = pd.to_numeric(frame["ADJINC"], errors="coerce") / 1_000_000
    return (income * factor).round(0)


def _person_frames(
    person_path: Path,
    *,
    plan: ColumnPlan,
    dictionary: PumsDictionary,
    housing_frame: pd.DataFrame | None,
    block_size: int,
) -> Iterator[pd.DataFrame]:
    """Stream the person file in record batches, each checked and joined to its households, with the record id and
    the adjusted income added."""
    person_columns = sorted({"SERIALNO", "SPORDER", "PWGTP", "ADJINC", plan.state, *plan.person.values()})
    rows = 0
    for batch in csv_batches(person_path, person_columns, block_size=block_size):
        frame = batch.to_pandas()
        if rows == 0:
            _check_year(person_path, frame["SERIALNO"], dictionary)
        weights = pd.to_numeric(frame["PWGTP"], errors="coerce")
        if weights.isna().any():
            raise PumsInputError(person_path, f"has a non-numeric PWGTP near data row {rows + 1}")
        frame["PWGTP"] = weights.astype("int64")
        if housing_frame is not None:
            frame[JOINED] = frame["SERIALNO"].isin(housing_frame.index)
            frame = frame.join(housing_frame, on="SERIALNO")
            for column in plan.housing.values():
                frame[column] = frame[column].fillna("")
        frame[RECORD_ID] = frame["SERIALNO"] + ":" + frame["SPORDER"]
        if "income" in plan.all:
            frame[INCOME] = _adjusted_income(frame, plan.all["income"])
        rows += len(frame)
        yield frame


class _RecordsFile:
    """The dataset's Parquet records file: written under a hidden partial name, moved into place only once complete,
    and removed whatever fails on the way."""

    def __init__(self) -> None:
        folder = Path(settings.DATA_DIR) / "pums"
        folder.mkdir(parents=True, exist_ok=True)
        self.relative = f"pums/{uuid.uuid4().hex}.parquet"
        self.partial = folder / f".{uuid.uuid4().hex}.partial"
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.partial, table.schema, compression="zstd")
        self.writer.write_table(table)

    def finish(self) -> Path:
        """Close the file and move it into place; the caller removes it if what follows fails."""
        assert self.writer is not None
        self.writer.close()
        self.writer = None
        final = Path(settings.DATA_DIR) / self.relative
        self.partial.replace(final)
        return final

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.partial.unlink(missing_ok=True)


def census_dataset_import(
    *,
    person_path: str | Path,
    dictionary_path: str | Path,
    housing_path: str | Path | None = None,
    name: str = "",
    block_size: int = BLOCK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> CensusDataset:
    """Import a PUMS extract atomically and return the new dataset; bad input raises ``PumsInputError``."""
    person_path = Path(person_path)
    housing = Path(housing_path) if housing_path else None
    dictionary = dictionary_load(dictionary_path)
    plan = _plan(person_path, housing, dictionary)
    housing_frame = _housing_frame(housing, list(plan.housing.values())) if housing else None
    marginals: dict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = 0
    joined = 0
    weight_total = 0
    state_code = ""
    records = _RecordsFile()
    try:
        frames = _person_frames(
            person_path, plan=plan, dictionary=dictionary, housing_frame=housing_frame, block_size=block_size
        )
        for frame in frames:
            if rows == 0:
                state_code = str(frame[plan.state].iloc[0]) if len(frame) else ""
            if housing_frame is not None:
                joined += int(frame[JOINED].sum())
            _accumulate(marginals, frame, plan, dictionary)
            rows += len(frame)
            weight_total += int(frame["PWGTP"].sum())
            records.write(
                frame[[RECORD_ID, "PWGTP", *sorted(set(plan.all.values())), *([INCOME] if INCOME in frame else [])]]
            )
            if progress:
                progress(rows)
        if records.writer is None or rows == 0:
            raise PumsInputError(person_path, "has a header but no data rows")
        if housing is not None:
            _check_join(housing, joined=joined, rows=rows)
        final = records.finish()
        try:
            with transaction.atomic():
                default_name = f"ACS {dictionary.year or ''} PUMS {dictionary.decode(plan.state, state_code) or ''}"
                dataset = CensusDataset.objects.create(
                    name=name_unique(queryset=CensusDataset.objects.all(), name=(name or default_name).strip()),
                    year=dictionary.year or 0,
                    state=dictionary.decode(plan.state, state_code) or state_code,
                    person_file=person_path.name,
                    housing_file=housing.name if housing else "",
                    housing_join_rate=joined / rows if housing else None,
                    dictionary_file=Path(dictionary_path).name,
                    rows=rows,
                    weight_total=weight_total,
                    marginals={key: dict(values) for key, values in marginals.items()},
                    codebook=dictionary.codebook(sorted(set(plan.all.values()))),
                    columns=plan.all,
                    records_path=records.relative,
                )
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    finally:
        records.discard()
    logger.info("imported %s: %s persons, weight %s", dataset, rows, weight_total)
    if dataset.join_warning:
        logger.warning("%s: %s", dataset, dataset.join_warning)
    return dataset
