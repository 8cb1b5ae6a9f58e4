"""Federal files: the produced file is checked on the way out; bad files are refused by line and
element; the legacy fixed-width foster-care detail record is read by its layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kinfolk.cli import main
from kinfolk.federal import files
from kinfolk.federal.files import (
    LEGACY_FIXED_LAYOUT,
    LEGACY_FIXED_RECORD_LENGTH,
    export_afcars,
    export_ncands,
    import_afcars,
    import_afcars_legacy_fixed,
    import_ncands,
)
from kinfolk.federal.tables import TableError, read_tables
from kinfolk.federal.tests.test_files import directory  # noqa: F401  (the shared fixture)

# --- validated on the way out -----------------------------------------------------------------


def _export(kind: str, tables_dir: Path, out: Path) -> int:
    return main(["federal", "export", kind, "--input", str(tables_dir), "--output", str(out)])


@pytest.mark.parametrize("kind", ["ncands", "afcars"])
def test_a_writer_that_drops_a_record_is_caught_and_leaves_no_file(
    kind: str,
    directory: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = files._write

    def drops_the_last_record(header, rows):  # type: ignore[no-untyped-def]
        return real(header, list(rows)[:-1])

    monkeypatch.setattr(files, "_write", drops_the_last_record)
    out = tmp_path / f"{kind}.csv"
    assert _export(kind, directory, out) == 2
    assert "does not read back to the same" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [directory]


def test_a_writer_that_writes_a_bad_code_is_caught_by_line_and_element(
    directory: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = files._write

    def writes_sex_12(header, rows):  # type: ignore[no-untyped-def]
        rows = [list(r) for r in rows]
        rows[0][list(header).index("CHSEX")] = 12
        return real(header, rows)

    monkeypatch.setattr(files, "_write", writes_sex_12)
    with pytest.raises(TableError) as caught:
        export_ncands(read_tables(directory))
    message = str(caught.value)
    assert "fails its own check" in message
    assert "line 2" in message and "'CHSEX'" in message and "not a valid code" in message


def test_a_writer_that_shifts_a_date_is_caught(
    directory: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = files._write

    def shifts_discharges(header, rows):  # type: ignore[no-untyped-def]
        at = list(header).index("DODFCDT")
        rows = [list(r) for r in rows]
        for row in rows:
            if row[at] is not None:
                row[at] = row[at] + dt.timedelta(days=1)
        return real(header, rows)

    monkeypatch.setattr(files, "_write", shifts_discharges)
    with pytest.raises(TableError, match="same episodes"):
        export_afcars(read_tables(directory))


# --- bad input: line and element, nothing written ---------------------------------------------


def _import(kind: str, source: Path, target: Path, *extra: str) -> int:
    return main(
        ["federal", "import", kind, "--input", str(source), "--output", str(target), *extra]
    )


def _afcars_lines(directory: Path) -> list[str]:  # noqa: F811
    return export_afcars(read_tables(directory)).decode().splitlines()


def test_a_truncated_line_is_refused_by_line(directory: Path) -> None:  # noqa: F811
    lines = _afcars_lines(directory)
    lines[2] = lines[2][: lines[2].rindex(",")]
    with pytest.raises(TableError) as caught:
        import_afcars("\n".join(lines).encode())
    assert caught.value.line == 3
    assert "fields; the header has" in caught.value.message


def test_an_unknown_code_is_refused_by_line_and_element(directory: Path) -> None:  # noqa: F811
    data = export_ncands(read_tables(directory)).decode().splitlines()
    header = data[0].split(",")
    row = data[3].split(",")
    row[header.index("MAL1LEV")] = "42"
    data[3] = ",".join(row)
    with pytest.raises(TableError) as caught:
        import_ncands("\n".join(data).encode())
    assert (caught.value.line, caught.value.column) == (4, "MAL1LEV")
    assert "42 is not a valid code" in str(caught.value)


def test_an_unparseable_date_is_refused_and_nothing_is_written(
    directory: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _afcars_lines(directory)
    lines[1] = lines[1].replace("2012-03-04", "2012-02-30")
    source = tmp_path / "afcars.csv"
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "out"
    assert _import("afcars", source, target) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "'DOB'" in err and "'2012-02-30' is not a date" in err
    assert not target.exists()


def test_a_setting_without_its_start_date_is_refused(directory: Path) -> None:  # noqa: F811
    lines = _afcars_lines(directory)
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("CURSETDT")] = ""
    lines[1] = ",".join(row)
    with pytest.raises(TableError) as caught:
        import_afcars("\n".join(lines).encode())
    assert (caught.value.line, caught.value.column) == (2, "CURSETDT")


# --- the legacy fixed-width foster-care detail record -----------------------------------------


def _record(**values: str) -> str:
    """One detail record: every element blank except those given (already in file form)."""
    line = [" "] * LEGACY_FIXED_RECORD_LENGTH
    by_name = {f.name: f for f in LEGACY_FIXED_LAYOUT}
    for name, value in values.items():
        field = by_name[name]
        assert len(value) <= field.length, name
        line[field.start - 1 : field.start - 1 + field.length] = value.rjust(field.length)
    return "".join(line)


AVA = {
    "STATE": "12",
    "FIPSCODE": "12073",
    "RECNUMBR": "000000000017",
    "DOB": "20120304",
    "SEX": "2",
    "AMIAKN": "0",
    "ASIAN": "0",
    "BLKAFRAM": "0",
    "HAWAIIPI": "0",
    "WHITE": "1",
    "UNTODETM": "0",
    "HISORGIN": "2",
    "REM1DT": "20180301",
    "TOTALREM": "2",
    "DLSTFCDT": "20180901",
    "LATREMDT": "20200110",
}


def test_the_layout_is_gapless_and_as_long_as_the_bulletin_says() -> None:
    position = 1
    for field in LEGACY_FIXED_LAYOUT:
        assert field.start == position
        position += field.length
    assert position - 1 == LEGACY_FIXED_RECORD_LENGTH == 197
    numbers = {f.name: f.element for f in LEGACY_FIXED_LAYOUT}
    # The element numbers the policy manual and technical bulletins cite by number.
    assert (numbers["RECNUMBR"], numbers["LATREMDT"], numbers["CURSETDT"]) == ("4", "21", "23")
    assert (numbers["NUMPLEP"], numbers["CURPLSET"], numbers["DODTRNDT"]) == ("24", "41", "57")


# A state data unit's published parser for its own submission files (GitHub
# hahmed1523/afcarsparser, afcarsparser.py at 2865dd3, ``fcwidths``), written out here: the
# width of each of the 81 fields, elements 1-66 with race 8a-8f, 52a-52f and 54a-54f.
PUBLISHED_WIDTHS = (
    [2, 6, 5, 12, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 2, 8, 8, 8, 8, 2]
    + [1] * 20
    + [4, 4, 8, 8, 1, 4, 4]
    + [1] * 14
    + [8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 5]
)


def test_every_position_is_the_published_parsers() -> None:
    assert len(PUBLISHED_WIDTHS) == len(LEGACY_FIXED_LAYOUT) == 81
    assert [f.length for f in LEGACY_FIXED_LAYOUT] == PUBLISHED_WIDTHS
    assert all(f.verified for f in LEGACY_FIXED_LAYOUT)
    # Columns (first, last) that follow from the parser's widths, for elements the import reads.
    columns = {f.name: (f.start, f.start + f.length - 1) for f in LEGACY_FIXED_LAYOUT}
    assert columns["STATE"] == (1, 2)
    assert columns["RPTPDEND"] == (3, 8)
    assert columns["FIPSCODE"] == (9, 13)
    assert columns["RECNUMBR"] == (14, 25)
    assert columns["DOB"] == (34, 41)
    assert columns["SEX"] == (42, 42)
    assert columns["AMIAKN"] == (43, 43)
    assert columns["HISORGIN"] == (49, 49)
    assert columns["LATREMDT"] == (76, 83)
    assert columns["CURSETDT"] == (92, 99)
    assert columns["CURPLSET"] == (118, 118)
    assert columns["RF1AMAKN"] == (155, 155)
    assert columns["HOFCCTK2"] == (168, 168)
    assert columns["DODFCDT"] == (169, 176)
    assert columns["DISREASN"] == (185, 185)
    assert columns["FCMNTPAY"] == (193, 197)


def test_a_record_built_by_column_is_read_at_those_columns() -> None:
    # Built from column numbers alone, not from the layout, so a shifted field shows here.
    line = [" "] * 197

    def put(first: int, value: str) -> None:
        line[first - 1 : first - 1 + len(value)] = value

    put(1, "12")  # 1 STATE
    put(3, "202003")  # 2 RPTPDEND
    put(9, "12073")  # 3 FIPSCODE
    put(14, "000000000017")  # 4 RECNUMBR
    put(34, "20120304")  # 6 DOB
    put(42, "2")  # 7 SEX
    put(47, "1")  # 8e WHITE
    put(49, "2")  # 9 HISORGIN
    put(76, "20200110")  # 21 LATREMDT
    put(92, "20200115")  # 23 CURSETDT
    put(118, "3")  # 41 CURPLSET
    put(169, "20200220")  # 56 DODFCDT
    put(185, "1")  # 58 DISREASN
    put(193, "00450")  # 66 FCMNTPAY
    tables = import_afcars_legacy_fixed(("".join(line) + "\n").encode("ascii"))
    [child] = tables["children"].to_pylist()
    assert (child["child_id"], child["date_of_birth"], child["race_white"]) == (
        "000000000017",
        dt.date(2012, 3, 4),
        1,
    )
    [episode] = tables["episodes"].to_pylist()
    assert (episode["county"], episode["removal_date"]) == ("12073", dt.date(2020, 1, 10))
    assert (episode["discharge_date"], episode["discharge_reason"]) == (dt.date(2020, 2, 20), 1)
    [placement] = tables["placements"].to_pylist()
    assert (placement["start_date"], placement["setting"]) == (dt.date(2020, 1, 15), 3)


def test_semi_annual_fixed_records_rebuild_what_they_can() -> None:
    # ava on three report dates: a non-relative home on 2020-03, a relative home from
    # 2020-05-01 on 2020-09, discharged (reunified) on 2020-12-01 by 2021-03. A group-home stay
    # in April fell between two report dates and is invisible.
    text = "\n".join(
        [
            "@",
            "9" * 174,  # the summary record is skipped
            _record(**AVA, RPTPDEND="202009", CURSETDT="20200501", NUMPLEP="3", CURPLSET="2"),
            _record(**AVA, RPTPDEND="202003", CURSETDT="20200110", NUMPLEP="1", CURPLSET="3"),
            _record(
                **AVA,
                RPTPDEND="202103",
                CURSETDT="20200501",
                NUMPLEP="3",
                CURPLSET="2",
                DODFCDT="20201201",
                DISREASN="1",
            ),
            "#",
            "adoption records are not read",
        ]
    )
    tables = import_afcars_legacy_fixed(text.encode("ascii"))
    [child] = tables["children"].to_pylist()
    assert (child["child_id"], child["date_of_birth"], child["race_white"]) == (
        "000000000017",
        dt.date(2012, 3, 4),
        1,
    )
    [episode] = tables["episodes"].to_pylist()
    assert (episode["removal_date"], episode["discharge_date"], episode["discharge_reason"]) == (
        dt.date(2020, 1, 10),
        dt.date(2020, 12, 1),
        1,
    )
    assert episode["county"] == "12073"
    settings = sorted(
        (p["start_date"], p["end_date"], p["setting"]) for p in tables["placements"].to_pylist()
    )
    assert settings == [
        (dt.date(2020, 1, 10), dt.date(2020, 4, 30), 3),
        (dt.date(2020, 5, 1), dt.date(2020, 12, 1), 2),
    ]


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"CURPLSET": "9"}, "CURPLSET", "9 is not a valid code"),
        ({"DOB": "20121340"}, "DOB", "'20121340' is not a date (expected YYYYMMDD)"),
        ({"SEX": "M"}, "SEX", "is not numeric"),
        ({"RPTPDEND": "202013"}, "RPTPDEND", "not a month (expected YYYYMM)"),
        ({"LATREMDT": ""}, "LATREMDT", "required element is blank"),
    ],
)
def test_a_bad_fixed_record_is_refused_by_line_and_element(
    change: dict[str, str], column: str, message: str
) -> None:
    good = _record(**AVA, RPTPDEND="202003", CURSETDT="20200110", CURPLSET="3")
    bad = _record(
        **(AVA | {"RPTPDEND": "202003", "CURSETDT": "20200110", "CURPLSET": "3"} | change)
    )
    with pytest.raises(TableError) as caught:
        import_afcars_legacy_fixed(f"{good}\n{bad}\n".encode())
    assert (caught.value.line, caught.value.column) == (2, column)
    assert message in caught.value.message


@pytest.mark.parametrize(("cut", "what"), [(-10, "truncated"), (3, "too long")])
def test_a_record_of_the_wrong_length_is_refused_by_line(cut: int, what: str) -> None:
    good = _record(**AVA, RPTPDEND="202003")
    bad = good[:cut] if cut < 0 else good + "0" * cut
    with pytest.raises(TableError) as caught:
        import_afcars_legacy_fixed(f"{good}\r\n{good}\r\n{bad}\r\n".encode())
    assert caught.value.line == 3
    assert f"record is {what}" in caught.value.message
    assert "the layout has 197" in caught.value.message


def test_the_command_reads_the_fixed_layout_and_says_what_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "fc.dat"
    source.write_text(_record(**AVA, RPTPDEND="202003", CURSETDT="20200110", CURPLSET="3") + "\n")
    target = tmp_path / "tables"
    assert _import("afcars", source, target, "--layout", "legacy-fixed", "--format", "csv") == 0
    assert read_tables(target)["placements"].num_rows == 1
    assert "match a state's published parser" in capsys.readouterr().err


def test_a_bad_fixed_file_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "fc.dat"
    source.write_text(_record(**AVA, RPTPDEND="202003")[:-1] + "\n")
    target = tmp_path / "tables"
    assert _import("afcars", source, target, "--layout", "legacy-fixed") == 2
    assert "line 1: record is truncated" in capsys.readouterr().err
    assert not target.exists()


def test_the_layout_option_is_only_for_afcars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "n.csv"
    source.write_text("x\n")
    assert _import("ncands", source, tmp_path / "t", "--layout", "legacy-fixed") == 2
    assert "for afcars files only" in capsys.readouterr().err
