"""Every table conforms to the federal schema, read by the same reader the outcomes engine uses."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow.parquet as pq

from kinfolk.federal.tables import ARROW_SCHEMAS, TABLE_NAMES, read_tables, validate_tables
from kinfolk.simulate.identity import PERSONS_COLUMNS


def test_parquet_tables_have_the_canonical_arrow_types(small_run: Path) -> None:
    for name in TABLE_NAMES:
        schema = pq.read_schema(small_run / f"{name}.parquet")
        assert schema.remove_metadata() == ARROW_SCHEMAS[name], name


def test_parquet_tables_pass_the_federal_validator(small_run: Path) -> None:
    tables = read_tables(small_run)
    validate_tables(tables)
    assert all(tables[name].num_rows > 0 for name in TABLE_NAMES)


def test_csv_tables_pass_the_federal_validator(small_csv_run: Path) -> None:
    tables = read_tables(small_csv_run)
    validate_tables(tables)
    assert tables["reports"].num_rows > 0


def test_csv_and_parquet_hold_the_same_rows(small_run: Path, small_csv_run: Path) -> None:
    parquet, csv_ = read_tables(small_run), read_tables(small_csv_run)
    for name in TABLE_NAMES:
        assert parquet[name].equals(csv_[name]), name


def test_persons_file_has_the_matching_format(small_run: Path) -> None:
    with (small_run / "persons.csv").open(newline="", encoding="utf-8") as handle:
        header = handle.readline().strip()
        assert header == ",".join(PERSONS_COLUMNS)
        rows = list(csv.DictReader(handle, fieldnames=PERSONS_COLUMNS))
    assert rows
    for row in rows:
        assert re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", row["date_of_birth"]), row
        assert row["sex"] in ("M", "F", "U", ""), row
        assert re.fullmatch(r"(\d{9})?", row["ssn"]), row
        assert row["first_name"] and row["last_name"], row


def test_every_record_has_exactly_one_true_person(small_run: Path) -> None:
    with (small_run / "persons_truth.csv").open(newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    with (small_run / "persons.csv").open(newline="", encoding="utf-8") as handle:
        records = [row["record_id"] for row in csv.DictReader(handle)]
    assert list(truth[0]) == ["record_id", "person_id"]
    assert sorted(records) == sorted(row["record_id"] for row in truth)
    assert len(set(records)) == len(records)
    # People recur: far fewer persons than records.
    assert len({row["person_id"] for row in truth}) < 0.8 * len(truth)
