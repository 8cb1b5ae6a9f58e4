"""``kinfolk outcomes compute`` as a user runs it: output shapes and clear errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kinfolk.cli import main
from kinfolk.outcomes.engine import INDICATORS
from kinfolk.outcomes.tests.cases import PERMANENCY_ENTRIES, RECURRENCE, REENTRY


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["outcomes", "compute", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_has_the_documented_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = PERMANENCY_ENTRIES.write(tmp_path / "tables")
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--data-through",
        "2025-01-01",
    )
    assert status == 0
    result = json.loads(out)
    assert result["period"] == {"start": "2021-10-01", "end": "2022-09-30"}
    assert list(result["indicators"]) == list(INDICATORS)
    entry = result["indicators"]["permanency_12_entries"]
    assert (entry["numerator"], entry["denominator"], entry["value"]) == (4, 10, 40.0)
    assert entry["unit"] == "percent"
    assert isinstance(entry["numerator"], int)
    assert result["indicators"]["recurrence"]["value"] is None  # no reports: 0 / 0
    assert {"check", "value", "threshold", "passed"} <= set(result["data_quality"][0])


def test_output_file_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = PERMANENCY_ENTRIES.write(tmp_path / "tables")
    target = tmp_path / "out.csv"
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--format",
        "csv",
        "--output",
        str(target),
        "--by",
        "county",
        "--data-through",
        "2025-01-01",
    )
    assert status == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    perm = [r for r in rows if r["indicator"] == "permanency_12_entries"]
    assert [(r["group"], r["numerator"], r["denominator"]) for r in perm] == [
        ("all", "4", "10"),
        ("Leon", "3", "5"),
        ("Wakulla", "1", "5"),
    ]


def test_html_is_self_contained_with_a_chart_per_indicator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = RECURRENCE.write(tmp_path / "tables")
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--format",
        "html",
        "--periods",
        "2",
    )
    assert status == 0
    assert out.count("<svg") == len(INDICATORS)
    assert "<script" not in out and "http://" not in out.replace("http://www.w3.org", "")
    assert "https://" not in out
    assert "42.86" in out  # recurrence 3 / 7


def test_trend_lists_each_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = PERMANENCY_ENTRIES.write(tmp_path / "tables")
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2022-10-01",
        "--periods",
        "2",
        "--data-through",
        "2025-01-01",
    )
    assert status == 0
    trend = json.loads(out)["indicators"]["permanency_12_entries"]["trend"]
    assert [p["period"]["start"] for p in trend] == ["2021-10-01", "2022-10-01"]
    assert (trend[0]["numerator"], trend[0]["denominator"]) == (4, 10)


def test_follow_up_window_without_data_is_not_computable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Re-entry for FFY 2022 follows an exit on 2022-09-30 for 365 days, so it needs data through
    # 2023-09-30; permanency for entries needs 2022-09-30 + 364 = 2023-09-29; recurrence, like
    # re-entry, 2023-09-30.
    directory = REENTRY.write(tmp_path / "tables")
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--data-through",
        "2023-09-28",
    )
    assert status == 0
    indicators = json.loads(out)["indicators"]
    for name in ("reentry_12", "permanency_12_entries", "recurrence"):
        assert indicators[name]["computable"] is False
        assert indicators[name]["numerator"] is None and indicators[name]["value"] is None
        assert "not computable" in indicators[name]["reason"]
    assert "2023-09-30" in indicators["reentry_12"]["reason"]
    assert "2023-09-29" in indicators["permanency_12_entries"]["reason"]
    # Indicators without a follow-up window are still computed.
    assert indicators["placement_stability"]["computable"] is True

    # One day more and permanency for entries is computable, re-entry is not yet.
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--data-through",
        "2023-09-29",
    )
    indicators = json.loads(out)["indicators"]
    assert indicators["permanency_12_entries"]["computable"] is True
    assert indicators["reentry_12"]["computable"] is False

    # Through the last day of the last exit's follow-up, re-entry is computed.
    status, out, _ = run(
        capsys,
        "--input",
        str(directory),
        "--period-start",
        "2021-10-01",
        "--data-through",
        "2023-09-30",
    )
    entry = json.loads(out)["indicators"]["reentry_12"]
    assert (entry["computable"], entry["numerator"], entry["denominator"]) == (True, 6, 8)


def test_period_start_must_be_a_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = RECURRENCE.write(tmp_path / "tables")
    for bad in ("2021-02-30", "October 2021", "2021-10"):
        status, _, err = run(capsys, "--input", str(directory), "--period-start", bad)
        assert status == 2
        assert "--period-start" in err and "not a date" in err


@pytest.mark.parametrize(
    ("table", "edit", "message"),
    [
        ("reports", lambda t: None, "reports.csv or reports.parquet"),
        ("episodes", lambda t: t.replace("discharge_reason,", "reason,"), "discharge_reason"),
        ("episodes", lambda t: t.replace("2022-01-09,3,", "2022-01-09,9,"), "not a valid code"),
        ("children", lambda t: t.replace("p4,2015-01-01", "p4,01/01/2015"), "not a date"),
        (
            "episodes",
            lambda t: t.replace("p14,2022-01-01,", "p14,2021-12-01,"),
            "overlap",
        ),
        # The reference checks, which ride along in the indicators' query.
        ("episodes", lambda t: t + "zz,2022-01-01,,,Leon\n", "refers to no child"),
        ("placements", lambda t: t + "p1,2001-01-01,2001-01-01,,3,0,X\n", "refers to no episode"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    edit: object,
    message: str,
) -> None:
    directory = PERMANENCY_ENTRIES.write(tmp_path / "tables")
    path = directory / f"{table}.csv"
    changed = edit(path.read_text(encoding="utf-8"))  # type: ignore[operator]
    if changed is None:
        path.unlink()
    else:
        assert changed != path.read_text(encoding="utf-8")
        path.write_text(changed, encoding="utf-8")
    status, out, err = run(capsys, "--input", str(directory), "--period-start", "2021-10-01")
    assert status == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_missing_input_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys, "--input", str(tmp_path / "nowhere"), "--period-start", "2021-10-01"
    )
    assert status == 2 and "not a directory" in err


def test_age_groups_are_listed_youngest_first_without_a_standardised_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kinfolk.outcomes.engine import AGE_GROUPS
    from kinfolk.outcomes.tests.cases import ALL_CASES, FFY2022
    from kinfolk.outcomes.tests.test_spark import merged

    directory = merged([c for c in ALL_CASES if c.period_start == FFY2022]).write(tmp_path / "t")
    common = ("--input", str(directory), "--period-start", "2021-10-01")
    status, out, _ = run(capsys, *common, "--by", "age_group")
    assert status == 0
    order = [*AGE_GROUPS, "unknown"]
    for name, entry in json.loads(out)["indicators"].items():
        groups = [g["group"] for g in entry["breakdown"]]
        assert groups == sorted(groups, key=order.index), name
    days = json.loads(out)["indicators"]["maltreatment_in_care"]["breakdown"]
    # "6-10" sorts after "17+" as text: the order is by age, not alphabetical.
    assert [g["group"] for g in days].index("6-10") < [g["group"] for g in days].index("17+")

    status, page, _ = run(capsys, *common, "--by", "age_group", "--format", "html")
    assert status == 0
    # The groups are the ages: no age-standardised figure, so no empty column for it.
    assert "age-standardised (approximation)</th>" not in page
    largest = max(g["denominator"] for g in days)
    assert largest >= 1000 and f"<td>{largest:,}</td>" in page  # thousands separated
    status, page, _ = run(capsys, *common, "--by", "county", "--format", "html")
    assert status == 0 and "age-standardised (approximation)</th>" in page
