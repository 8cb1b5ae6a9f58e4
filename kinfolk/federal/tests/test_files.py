"""AFCARS and NCANDS files: deterministic, validated, and export -> import -> export identical."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from kinfolk.cli import main
from kinfolk.federal.files import (
    AFCARS_ELEMENTS,
    export_afcars,
    export_ncands,
    import_afcars,
    import_afcars_legacy,
    import_ncands,
)
from kinfolk.federal.tables import TableError, empty_tables, read_tables

CHILDREN = (
    "child_id,date_of_birth,sex,race_white,race_blkafram,hispanic\n"
    "ava,2012-03-04,2,1,0,2\n"
    "ben,2010-07-01,1,0,1,1\n"
    "cal,2019-05-05,9,,,3\n"
)
EPISODES = (
    "child_id,removal_date,discharge_date,discharge_reason,county,office\n"
    "ava,2020-01-10,2020-06-01,1,Leon,North\n"
    "ava,2021-02-01,,,Leon,North\n"
    "cal,2021-03-03,2021-09-09,3,Wakulla,\n"
)
PLACEMENTS = (
    "child_id,removal_date,start_date,end_date,setting,temporary,provider_id\n"
    "ava,2020-01-10,2020-01-10,2020-02-29,3,0,H1\n"
    "ava,2020-01-10,2020-03-01,2020-03-03,3,1,R9\n"
    "ava,2020-01-10,2020-03-04,2020-06-01,8,0,\n"
    "ava,2021-02-01,2021-02-01,,2,0,H2\n"
)
REPORTS = (
    "report_id,child_id,report_date,incident_date,maltreatment_type,maltreatment_level,county\n"
    "R2,ben,2021-05-01,,2,5,Leon\n"
    "R1,ava,2019-12-30,2019-12-29,2,1,Leon\n"
    "R1,ava,2019-12-30,2019-12-29,1,2,Leon\n"
    "R3,cal,2021-04-01,2021-03-30,4,1,Wakulla\n"
)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    root = tmp_path / "tables"
    root.mkdir()
    for name, text in (
        ("children", CHILDREN),
        ("episodes", EPISODES),
        ("placements", PLACEMENTS),
        ("reports", REPORTS),
    ):
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def test_ncands_export_is_deterministic_and_round_trips(directory: Path) -> None:
    tables = read_tables(directory)
    first = export_ncands(tables)
    assert export_ncands(tables) == first
    assert export_ncands(import_ncands(first)) == first
    lines = first.decode().splitlines()
    # one record per report and child; R1's two maltreatments share a record
    assert len(lines) == 1 + 3
    header = lines[0].split(",")
    ava = dict(zip(header, lines[1].split(","), strict=True))
    assert (ava["RPTID"], ava["CHAGE"], ava["CHSEX"], ava["CHRACWH"], ava["CHETHN"]) == (
        "R1",
        "7",
        "2",
        "1",
        "2",
    )
    assert (ava["CHMAL1"], ava["MAL1LEV"], ava["CHMAL2"], ava["MAL2LEV"]) == ("1", "2", "2", "1")


def test_afcars_export_is_deterministic_and_round_trips(directory: Path) -> None:
    tables = read_tables(directory)
    first = export_afcars(tables)
    assert export_afcars(tables) == first
    again = import_afcars(first)
    assert export_afcars(again) == first
    # episodes and placement settings survive; end dates are rebuilt from the next start
    assert again["episodes"].num_rows == 3
    ends = {r["start_date"]: r["end_date"] for r in again["placements"].to_pylist()}
    assert ends[dt.date(2020, 1, 10)] == dt.date(2020, 2, 29)
    assert ends[dt.date(2020, 3, 4)] == dt.date(2020, 6, 1)
    # sex 9 has no AFCARS code
    cal = next(r for r in again["children"].to_pylist() if r["child_id"] == "cal")
    assert cal["sex"] is None


def test_import_both_files_gives_the_same_indicators(directory: Path, tmp_path: Path) -> None:
    from kinfolk.outcomes.compute import compute

    original = read_tables(directory)
    target = tmp_path / "rebuilt"
    (tmp_path / "n.csv").write_bytes(export_ncands(original))
    (tmp_path / "a.csv").write_bytes(export_afcars(original))
    assert (
        main(
            [
                "federal",
                "import",
                "ncands",
                "--input",
                str(tmp_path / "n.csv"),
                "--output",
                str(target),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "federal",
                "import",
                "afcars",
                "--input",
                str(tmp_path / "a.csv"),
                "--output",
                str(target),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    rebuilt = read_tables(target)
    assert rebuilt["reports"].num_rows == 4 and rebuilt["episodes"].num_rows == 3
    through = dt.date(2024, 1, 1)
    for start in (dt.date(2019, 10, 1), dt.date(2020, 10, 1)):
        expected = compute(original, start, through=through)["indicators"]
        got = compute(rebuilt, start, through=through)["indicators"]
        assert got == expected


def test_more_than_four_maltreatments_are_refused() -> None:
    tables = empty_tables()
    tables["children"] = pa.table({"child_id": ["ava"]})
    tables["reports"] = pa.table(
        {
            "report_id": ["R1"] * 5,
            "child_id": ["ava"] * 5,
            "report_date": [dt.date(2021, 1, 1)] * 5,
            "maltreatment_type": [1, 2, 3, 4, 5],
            "maltreatment_level": [1] * 5,
        }
    )
    with pytest.raises(TableError, match="holds 4"):
        export_ncands(tables)


def test_bad_files_are_refused_with_a_location() -> None:
    with pytest.raises(TableError) as caught:
        import_ncands(b"RPTID,CHID\nR1,ava\n")
    assert caught.value.column == "RPTCNTY"
    good = export_afcars(empty_tables()).decode()
    row = "Leon,ava,2012-13-01,2,,,,,,,,2020-01-01,,,,0,,,,\n"
    with pytest.raises(TableError) as caught:
        import_afcars((good + row).encode())
    assert caught.value.line == 2


def test_legacy_semi_annual_records_rebuild_what_they_can() -> None:
    header = (
        "RPTPDEND,FIPSCODE,RECNUMBR,DOB,SEX,AMIAKN,ASIAN,BLKAFRAM,HAWAIIPI,WHITE,UNTODETM,"
        "HISORGIN,LATREMDT,CURSETDT,CURPLSET,DODFCDT,DISREASN\n"
    )
    # Three report periods for ava: in a non-relative home on 2020-03-31, a relative home
    # from 2020-05-01 on 2020-09-30, discharged by 2021-03-31. A group-home stay from 2020-04-01
    # to 2020-04-30 fell between two report dates and is invisible.
    rows = (
        "2020-09-30,Leon,ava,2012-03-04,2,0,0,0,0,1,0,2,2020-01-10,2020-05-01,2,,0\n"
        "2020-03-31,Leon,ava,2012-03-04,2,0,0,0,0,1,0,2,2020-01-10,2020-01-10,3,,0\n"
        "2021-03-31,Leon,ava,2012-03-04,2,0,0,0,0,1,0,2,2020-01-10,2020-05-01,2,2020-12-01,1\n"
    )
    tables = import_afcars_legacy((header + rows).encode())
    episodes = tables["episodes"].to_pylist()
    assert [(e["removal_date"], e["discharge_date"], e["discharge_reason"]) for e in episodes] == [
        (dt.date(2020, 1, 10), dt.date(2020, 12, 1), 1)
    ]
    settings = [(p["start_date"], p["setting"]) for p in tables["placements"].to_pylist()]
    assert sorted(settings) == [(dt.date(2020, 1, 10), 3), (dt.date(2020, 5, 1), 2)]


def test_export_command_writes_the_file(directory: Path, tmp_path: Path) -> None:
    out = tmp_path / "ncands.csv"
    assert (
        main(["federal", "export", "ncands", "--input", str(directory), "--output", str(out)]) == 0
    )
    assert out.read_bytes() == export_ncands(read_tables(directory))


def test_export_of_bad_tables_is_a_clear_error(
    directory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (directory / "episodes.csv").write_text(EPISODES.replace(",3,Wakulla", ",12,Wakulla"))
    status = main(
        ["federal", "export", "afcars", "--input", str(directory), "--output", str(tmp_path / "x")]
    )
    assert status == 2
    assert "not a valid code" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_afcars_columns_carry_the_1993_rule_element_numbers() -> None:
    # The detailed foster-care element list (45 CFR 1355, Appendix A; the Child Welfare Policy
    # Manual 1.2B.7 cites 23 as the date of placement in the current setting and 41 as the
    # current placement setting): 21 is the latest removal, 56 the discharge date, 58 its reason.
    numbers = dict((name, number) for number, name in AFCARS_ELEMENTS)
    assert numbers == {
        "FIPSCODE": 3,
        "RECNUMBR": 4,
        "DOB": 6,
        "SEX": 7,
        "AMIAKN": 8,
        "ASIAN": 8,
        "BLKAFRAM": 8,
        "HAWAIIPI": 8,
        "WHITE": 8,
        "UNTODETM": 8,
        "HISORGIN": 9,
        "LATREMDT": 21,
        "CURSETDT": 23,
        "CURPLSET": 41,
        "DODFCDT": 56,
        "DISREASN": 58,
    }
