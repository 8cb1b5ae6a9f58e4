"""The DuckDB reader: Parquet statistics, unsorted files and Ibis tables over the files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kinfolk.federal.tables import TABLE_NAMES, TableError, open_tables, read_tables
from kinfolk.federal.tests.test_tables import write_dir


def as_parquet(source: Path, target: Path, **changes: pa.Table) -> Path:
    """The CSV directory ``source`` rewritten as Parquet, with some tables replaced."""
    target.mkdir(parents=True, exist_ok=True)
    tables = read_tables(source)
    tables.update(changes)
    for name in TABLE_NAMES:
        pq.write_table(tables[name], target / f"{name}.parquet")
    return target


def test_code_outside_its_set_in_parquet_is_found(tmp_path: Path) -> None:
    source = write_dir(tmp_path / "csv")
    children = read_tables(source)["children"]
    bad = children.set_column(
        children.schema.get_field_index("sex"), "sex", pa.array([2, 4], pa.int64())
    )
    with pytest.raises(TableError) as caught:
        read_tables(as_parquet(source, tmp_path / "pq", children=bad))
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        "children.parquet",
        2,
        "sex",
    )


def test_empty_id_in_parquet_is_found(tmp_path: Path) -> None:
    source = write_dir(tmp_path / "csv")
    reports = read_tables(source)["reports"]
    bad = reports.set_column(reports.schema.get_field_index("child_id"), "child_id", pa.array([""]))
    with pytest.raises(TableError, match="required") as caught:
        read_tables(as_parquet(source, tmp_path / "pq", reports=bad))
    assert (caught.value.row, caught.value.column) == (1, "child_id")


def test_duplicate_in_an_unsorted_parquet_file(tmp_path: Path) -> None:
    source = write_dir(tmp_path / "csv")
    children = read_tables(source)["children"]
    # ben, ava, ben: out of key order, so the general (hash) check must find the duplicate
    bad = pa.concat_tables([children.slice(1), children.slice(0, 1), children.slice(1)])
    with pytest.raises(TableError, match="duplicate child_id") as caught:
        read_tables(as_parquet(source, tmp_path / "pq", children=bad))
    assert caught.value.row == 3


def test_open_tables_gives_the_same_indicators_as_arrow(tmp_path: Path) -> None:
    from kinfolk.outcomes.compute import compute, connect

    source = as_parquet(write_dir(tmp_path / "csv"), tmp_path / "pq")
    con = connect("duckdb")
    lazy = open_tables(source, con)
    assert {name: lazy[name].count().execute() for name in TABLE_NAMES} == {
        name: table.num_rows for name, table in read_tables(source).items()
    }
    start = dt.date(2019, 10, 1)
    through = dt.date(2022, 12, 31)
    assert compute(lazy, start, con=con, through=through) == compute(
        read_tables(source), start, con=con, through=through
    )


def test_episodes_out_of_key_order_are_read_when_they_do_not_overlap(tmp_path: Path) -> None:
    # ava's second episode is written before her first: neighbours in the file, out of order,
    # and no overlap. Comparing neighbours would take the 2020-01-10 removal for one before the
    # previous row's 2020-06-01 discharge.
    episodes = (
        "child_id,removal_date,discharge_date,discharge_reason,county\n"
        "ava,2020-06-01,2020-09-01,1,Leon\n"
        "ava,2020-01-10,2020-06-01,1,Leon\n"
        "ben,2021-02-02,2021-03-03,3,Wakulla\n"
    )
    source = write_dir(tmp_path / "csv", episodes=episodes)
    assert read_tables(source)["episodes"].num_rows == 3
    assert read_tables(as_parquet(source, tmp_path / "pq"))["episodes"].num_rows == 3


def test_overlap_out_of_key_order_is_found(tmp_path: Path) -> None:
    # The same child's episodes far apart in the file, the later removal first: they overlap.
    episodes = (
        "child_id,removal_date,discharge_date,discharge_reason,county\n"
        "ava,2020-03-01,2020-09-01,1,Leon\n"
        "ben,2021-02-02,2021-03-03,3,Wakulla\n"
        "ava,2020-01-10,2020-06-01,1,Leon\n"
    )
    with pytest.raises(TableError, match="overlap") as caught:
        read_tables(write_dir(tmp_path / "csv", episodes=episodes))
    assert caught.value.column == "removal_date"


def test_duplicate_episode_out_of_key_order_is_found(tmp_path: Path) -> None:
    episodes = (
        "child_id,removal_date,discharge_date,discharge_reason,county\n"
        "ben,2021-02-02,2021-03-03,3,Wakulla\n"
        "ava,2020-01-10,2020-06-01,1,Leon\n"
        "ben,2021-02-02,2021-03-03,3,Wakulla\n"
    )
    with pytest.raises(TableError, match="duplicate episode"):
        read_tables(write_dir(tmp_path / "csv", episodes=episodes))
