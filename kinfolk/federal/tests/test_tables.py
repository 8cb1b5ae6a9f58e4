"""The table reader refuses bad data with a located error and reads good data canonically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from kinfolk.federal.tables import (
    ARROW_SCHEMAS,
    TABLE_NAMES,
    TableError,
    empty_tables,
    read_tables,
    validate_tables,
    write_tables,
)

GOOD = {
    "children": "child_id,date_of_birth,sex,race_white,hispanic,nickname\n"
    "ava,2012-03-04,2,1,2,Avie\n"
    "ben,,1,0,3,\n",
    "episodes": "child_id,removal_date,discharge_date,discharge_reason,county\n"
    "ava,2020-01-10,2020-06-01,1,Leon\n"
    "ava,2020-06-01,,,Leon\n"
    "ben,2021-02-02,2021-03-03,3,Wakulla\n",
    "placements": "child_id,removal_date,start_date,end_date,setting,provider_id\n"
    "ava,2020-01-10,2020-01-10,2020-03-01,3,H1\n"
    "ava,2020-01-10,2020-03-01,,2,H2\n",
    "reports": "report_id,child_id,report_date,incident_date,maltreatment_type,"
    "maltreatment_level\n"
    "R1,ava,2019-12-30,2019-12-29,2,1\n",
}


def write_dir(root: Path, **overrides: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        text = overrides.get(name, GOOD[name])
        if text is not None:
            (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def test_good_directory_reads_to_the_canonical_schema(tmp_path: Path) -> None:
    tables = read_tables(write_dir(tmp_path))
    for name in TABLE_NAMES:
        assert tables[name].schema.equals(ARROW_SCHEMAS[name])
    assert "nickname" not in tables["children"].column_names
    children = tables["children"].to_pylist()
    assert children[0]["date_of_birth"] == dt.date(2012, 3, 4)
    assert children[1]["date_of_birth"] is None
    # race columns absent from the file are missing, not zero
    assert children[0]["race_asian"] is None
    placements = tables["placements"].to_pylist()
    assert [p["temporary"] for p in placements] == [0, 0]
    assert tables["episodes"].column("office").null_count == 3


def test_parquet_and_csv_round_trip(tmp_path: Path) -> None:
    tables = read_tables(write_dir(tmp_path / "src"))
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        write_tables(tables, out, fmt=fmt)
        again = read_tables(out)
        for name in TABLE_NAMES:
            assert again[name].equals(tables[name]), (fmt, name)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"reports\.csv or reports\.parquet"):
        read_tables(write_dir(tmp_path, reports=None))


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    text = "child_id,discharge_date,discharge_reason\nava,2020-01-01,1\n"
    with pytest.raises(TableError) as caught:
        read_tables(write_dir(tmp_path, episodes=text))
    assert (caught.value.file, caught.value.line, caught.value.column) == (
        "episodes.csv",
        None,
        "removal_date",
    )
    assert "required column" in str(caught.value)


def test_unparseable_date_gives_line_and_column(tmp_path: Path) -> None:
    text = GOOD["episodes"].replace("2021-03-03", "2021-02-30")
    with pytest.raises(TableError) as caught:
        read_tables(write_dir(tmp_path, episodes=text))
    # header is line 1, so the third data row is line 4
    assert (caught.value.file, caught.value.line, caught.value.column) == (
        "episodes.csv",
        4,
        "discharge_date",
    )
    assert "'2021-02-30'" in str(caught.value)


@pytest.mark.parametrize("bad", ["03/04/2012", "2012-3-4", "yesterday"])
def test_dates_must_be_iso(tmp_path: Path, bad: str) -> None:
    text = GOOD["children"].replace("2012-03-04", bad)
    with pytest.raises(TableError, match="not a date") as caught:
        read_tables(write_dir(tmp_path, children=text))
    assert caught.value.line == 2


def test_code_outside_its_set_is_refused(tmp_path: Path) -> None:
    text = GOOD["placements"].replace(",2,H2", ",9,H2")
    with pytest.raises(TableError, match="not a valid code") as caught:
        read_tables(write_dir(tmp_path, placements=text))
    assert (caught.value.line, caught.value.column) == (3, "setting")


def test_non_number_code_is_refused(tmp_path: Path) -> None:
    text = GOOD["reports"].replace(",2,1\n", ",neglect,1\n")
    with pytest.raises(TableError, match="not a whole number") as caught:
        read_tables(write_dir(tmp_path, reports=text))
    assert caught.value.column == "maltreatment_type"


def test_level_99_is_a_valid_code(tmp_path: Path) -> None:
    text = GOOD["reports"].replace(",2,1\n", ",2,99\n")
    assert read_tables(write_dir(tmp_path, reports=text))["reports"]["maltreatment_level"][
        0
    ].as_py() == (99)


def test_duplicate_child_id(tmp_path: Path) -> None:
    text = GOOD["children"] + "ava,2012-03-04,2,1,2,\n"
    with pytest.raises(TableError, match="duplicate child_id") as caught:
        read_tables(write_dir(tmp_path, children=text))
    assert caught.value.line == 4


def test_overlapping_episodes(tmp_path: Path) -> None:
    # ava's first episode runs to 2020-06-01; a removal on 2020-05-31 overlaps it.
    text = GOOD["episodes"].replace("ava,2020-06-01,,,Leon", "ava,2020-05-31,,,Leon")
    with pytest.raises(TableError, match="overlap") as caught:
        read_tables(write_dir(tmp_path, episodes=text))
    assert (caught.value.line, caught.value.column) == (3, "removal_date")


def test_open_episode_followed_by_another_overlaps(tmp_path: Path) -> None:
    text = GOOD["episodes"] + "ava,2023-01-01,2023-02-01,1,Leon\n"
    with pytest.raises(TableError, match="overlap") as caught:
        read_tables(write_dir(tmp_path, episodes=text))
    assert caught.value.line == 5


def test_required_value_missing(tmp_path: Path) -> None:
    text = GOOD["reports"].replace("R1,ava,2019-12-30", "R1,ava,")
    with pytest.raises(TableError, match="required") as caught:
        read_tables(write_dir(tmp_path, reports=text))
    assert caught.value.column == "report_date"


def test_placement_of_an_unknown_episode(tmp_path: Path) -> None:
    text = GOOD["placements"] + "ava,2019-01-01,2019-01-01,,3,H1\n"
    with pytest.raises(TableError, match="refers to no episode") as caught:
        read_tables(write_dir(tmp_path, placements=text))
    assert caught.value.line == 4


def test_episode_of_an_unknown_child(tmp_path: Path) -> None:
    text = GOOD["episodes"] + "cal,2021-02-02,,,Leon\n"
    with pytest.raises(TableError, match="refers to no child"):
        read_tables(write_dir(tmp_path, episodes=text))


def test_both_formats_present_is_ambiguous(tmp_path: Path) -> None:
    write_dir(tmp_path)
    (tmp_path / "children.parquet").write_bytes(b"")
    with pytest.raises(TableError, match="keep one"):
        read_tables(tmp_path)


def test_in_memory_validation_counts_rows_from_one() -> None:
    tables = empty_tables()
    tables["children"] = pa.table({"child_id": ["a", "b"], "sex": pa.array([1, 4], pa.int64())})
    with pytest.raises(TableError) as caught:
        validate_tables(tables)
    assert (caught.value.file, caught.value.row, caught.value.column) == ("children", 2, "sex")
    assert str(caught.value).startswith("children, row 2, column 'sex'")


def test_in_memory_tables_may_use_wider_types() -> None:
    tables = empty_tables()
    tables["children"] = pa.table({"child_id": ["a"], "sex": pa.array([1], pa.int64())})
    tables["episodes"] = pa.table(
        {
            "child_id": ["a"],
            "removal_date": ["2020-01-01"],
            "discharge_date": pa.array([None], pa.date32()),
            "discharge_reason": pa.array([None], pa.int64()),
        }
    )
    validate_tables(tables)


def test_table_error_is_a_value_error() -> None:
    assert issubclass(TableError, ValueError)
