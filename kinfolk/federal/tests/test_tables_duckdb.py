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


@pytest.mark.parametrize(
    ("table", "extra", "message", "line"),
    [
        ("placements", "ava,2019-01-01,2019-01-01,,3,H1\n", "refers to no episode", 4),
        ("episodes", "cal,2021-02-02,,,Leon\n", "refers to no child", 5),
    ],
)
def test_deferred_reference_checks_raise_in_the_first_query(
    tmp_path: Path, table: str, extra: str, message: str, line: int
) -> None:
    from kinfolk.federal.tests.test_tables import GOOD
    from kinfolk.outcomes.compute import compute, connect

    directory = write_dir(tmp_path / "bad", **{table: GOOD[table] + extra})
    with pytest.raises(TableError, match=message) as eager:
        open_tables(directory, connect("duckdb"))
    con = connect("duckdb")
    tables = open_tables(directory, con, defer_checks=True)
    assert tables.deferred_checks is not None
    assert not tables.deferred_checks.verified
    # The outcomes query counts the orphans and raises the error open_tables would have raised,
    # located the same way, before any figure is returned.
    with pytest.raises(TableError, match=message) as deferred:
        compute(tables, dt.date(2020, 10, 1), con=con)
    assert str(deferred.value) == str(eager.value)
    assert (deferred.value.file, deferred.value.line) == (f"{table}.csv", line)
    assert not tables.deferred_checks.verified


def test_deferred_reference_checks_pass_on_good_tables(tmp_path: Path) -> None:
    from kinfolk.outcomes.compute import compute, connect

    directory = write_dir(tmp_path / "good")
    con = connect("duckdb")
    tables = open_tables(directory, con, defer_checks=True)
    assert tables.deferred_checks is not None
    deferred = compute(tables, dt.date(2020, 1, 1), con=con)
    assert tables.deferred_checks.verified
    # The same figures as tables checked in full when opened, and the reference counts are not
    # reported as data-quality checks.
    eager = compute(open_tables(directory, con), dt.date(2020, 1, 1), con=con)
    assert deferred == eager
    assert {c["check"] for c in deferred["data_quality"]}.isdisjoint(
        {"episode_child_missing", "placement_episode_missing"}
    )


def test_deferred_uniqueness_is_awaited_before_the_query_runs(tmp_path: Path) -> None:
    from kinfolk.federal.tests.test_tables import GOOD
    from kinfolk.outcomes.compute import compute, connect

    # A duplicated child would multiply rows in every join: the background check is awaited
    # once the query is compiled and before it runs, and refuses the tables.
    children = GOOD["children"] + "ava,2012-03-04,2,1,2,Avie\n"
    directory = write_dir(tmp_path / "dup", children=children)
    con = connect("duckdb")
    tables = open_tables(directory, con, defer_checks=True)
    assert tables.deferred_checks is not None
    with pytest.raises(TableError, match="duplicate child_id") as caught:
        compute(tables, dt.date(2020, 1, 1), con=con, through=dt.date(2021, 1, 1))
    assert caught.value.line == 4
    with pytest.raises(TableError, match="duplicate child_id"):
        open_tables(directory, connect("duckdb"))


def test_deferred_checks_find_an_overlap_in_the_background(tmp_path: Path) -> None:
    from kinfolk.federal.tests.test_tables import GOOD
    from kinfolk.outcomes.compute import connect

    episodes = GOOD["episodes"].replace("ava,2020-06-01,,,Leon", "ava,2020-05-31,,,Leon")
    tables = open_tables(
        write_dir(tmp_path / "overlap", episodes=episodes), connect("duckdb"), defer_checks=True
    )
    assert tables.deferred_checks is not None
    with pytest.raises(TableError, match="overlap") as caught:
        tables.deferred_checks.wait()
    assert (caught.value.line, caught.value.column) == (3, "removal_date")


def _maxima(tables: dict[str, pa.Table]) -> dict[str, dict[str, dt.date | None]]:
    return {
        name: {
            field.name: pa.compute.max(tables[name].column(field.name)).as_py()
            for field in tables[name].schema
            if pa.types.is_date(field.type)
        }
        for name in TABLE_NAMES
    }


def test_latest_dates_come_from_the_statistics_of_every_row_group(tmp_path: Path) -> None:
    import pyarrow.compute  # noqa: F401  (pa.compute in _maxima)

    from kinfolk.outcomes.compute import connect, data_through

    source = write_dir(tmp_path / "csv")
    tables = read_tables(source)
    target = tmp_path / "pq"
    target.mkdir()
    for name in TABLE_NAMES:
        # A row group per row: the latest date of a column is in one group only, and a group of
        # one open episode has no discharge date at all (no maximum, only nulls).
        pq.write_table(tables[name], target / f"{name}.parquet", row_group_size=1)
    opened = open_tables(target, connect("duckdb"))
    expected = _maxima(tables)
    assert expected["episodes"]["discharge_date"] is not None
    assert tables["episodes"].column("discharge_date").null_count > 0
    assert opened.latest == expected
    assert data_through(opened) == data_through(tables)


def test_latest_dates_without_statistics_are_read_from_the_data(tmp_path: Path) -> None:
    import pyarrow.compute  # noqa: F401

    from kinfolk.outcomes.compute import connect, data_through

    source = write_dir(tmp_path / "csv")
    tables = read_tables(source)
    target = as_parquet(source, tmp_path / "pq")
    # No statistics in the episodes file, and the placements' dates stored as timestamps: the
    # statistics cannot tell those columns' latest dates, which are then left out (and the
    # scan, not a guess, gives the data's end).
    pq.write_table(tables["episodes"], target / "episodes.parquet", write_statistics=False)
    placements = tables["placements"]
    later = placements.set_column(
        placements.schema.get_field_index("start_date"),
        "start_date",
        pa.array(
            [dt.datetime(2030, 1, 1 + i, 12, 0) for i in range(placements.num_rows)],
            pa.timestamp("s"),
        ),
    )
    pq.write_table(later, target / "placements.parquet")
    con = connect("duckdb")
    opened = open_tables(target, con)
    assert "removal_date" not in opened.latest["episodes"]
    assert "discharge_date" not in opened.latest["episodes"]
    assert "start_date" not in opened.latest["placements"]
    assert opened.latest["reports"] == _maxima(tables)["reports"]
    assert data_through(opened, con) == dt.date(2030, 1, placements.num_rows)


def test_a_csv_directory_has_no_latest_dates(tmp_path: Path) -> None:
    from kinfolk.outcomes.compute import connect, data_through

    source = write_dir(tmp_path / "csv")
    con = connect("duckdb")
    opened = open_tables(source, con)
    assert all(not dates for dates in opened.latest.values())
    assert data_through(opened, con) == data_through(read_tables(source))
