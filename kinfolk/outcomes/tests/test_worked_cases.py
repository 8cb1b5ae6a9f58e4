"""The hand-worked cases give exactly the numerators and denominators worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kinfolk.federal.tables import read_tables
from kinfolk.outcomes.compute import NoDataError, compute
from kinfolk.outcomes.tests.cases import ALL_CASES, FFY2022, Case


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.name)
def test_worked_case_on_duckdb(case: Case, tmp_path: Path, duckdb_con: Any) -> None:
    tables = read_tables(case.write(tmp_path))
    result = compute(tables, case.period_start, con=duckdb_con, through=case.through)
    got = {
        name: (result["indicators"][name]["numerator"], result["indicators"][name]["denominator"])
        for name in case.expected
    }
    assert got == case.expected


def test_breakdown_groups_add_up_to_the_total(tmp_path: Path, duckdb_con: Any) -> None:
    case = next(c for c in ALL_CASES if c.name == "permanency_entries")
    tables = read_tables(case.write(tmp_path))
    result = compute(tables, case.period_start, by="county", con=duckdb_con, through=case.through)
    entry = result["indicators"]["permanency_12_entries"]
    groups = {g["group"]: (g["numerator"], g["denominator"]) for g in entry["breakdown"]}
    # Leon: p1 p2 p4 p5 p6 (permanency p1 p4 p5); Wakulla: p7 p8 p10 p13 p14 (p7)
    assert groups == {"Leon": (3, 5), "Wakulla": (1, 5)}
    assert entry["breakdown"][0]["value"] == 60.0


def test_breakdown_by_age_group_uses_age_at_entry(tmp_path: Path, duckdb_con: Any) -> None:
    case = next(c for c in ALL_CASES if c.name == "permanency_entries")
    tables = read_tables(case.write(tmp_path))
    result = compute(
        tables, case.period_start, by="age_group", con=duckdb_con, through=case.through
    )
    groups = {
        g["group"]: g["denominator"]
        for g in result["indicators"]["permanency_12_entries"]["breakdown"]
    }
    # every child born 2015-01-01 is 6 at entry; p10 (born 2004-01-15) is 17
    assert groups == {"6-10": 9, "17+": 1}


def test_values_are_rounded_rates(tmp_path: Path, duckdb_con: Any) -> None:
    case = next(c for c in ALL_CASES if c.name == "maltreatment_in_care")
    tables = read_tables(case.write(tmp_path))
    indicators = compute(tables, case.period_start, con=duckdb_con, through=case.through)[
        "indicators"
    ]
    # 6 / 295 days * 100,000 = 2033.898... -> 2033.9
    assert indicators["maltreatment_in_care"]["value"] == 2033.9
    assert indicators["maltreatment_in_care"]["national_performance"] == 9.07


def test_reports_only_and_episodes_only_data(tmp_path: Path, duckdb_con: Any) -> None:
    # An agency may load one file before the other: nothing crashes, absent cohorts are 0 / 0.
    only_reports = Case(
        name="only_reports",
        period_start=FFY2022,
        children="w,2015-01-01,1,1,0,2\n",
        reports="W1,w,2021-12-01,,2,1,Leon\nW2,w,2022-02-01,,2,1,Leon\n",
    )
    tables = read_tables(only_reports.write(tmp_path / "reports"))
    result = compute(tables, FFY2022, con=duckdb_con, through=dt.date(2025, 1, 1))["indicators"]
    assert (result["recurrence"]["numerator"], result["recurrence"]["denominator"]) == (1, 1)
    assert result["placement_stability"]["denominator"] == 0
    assert result["placement_stability"]["value"] is None

    only_episodes = Case(
        name="only_episodes",
        period_start=FFY2022,
        children="w,2015-01-01,1,1,0,2\n",
        episodes="w,2021-12-01,,,Leon\n",
    )
    tables = read_tables(only_episodes.write(tmp_path / "episodes"))
    result = compute(tables, FFY2022, con=duckdb_con, through=dt.date(2025, 1, 1))["indicators"]
    # 2022-09-30 - 2021-12-01 = 303 days
    assert result["maltreatment_in_care"]["denominator"] == 303
    assert result["recurrence"]["denominator"] == 0


def test_no_dated_events_at_all_is_an_error(tmp_path: Path, duckdb_con: Any) -> None:
    empty = Case(name="empty", period_start=FFY2022, children="w,2015-01-01,1,1,0,2\n")
    tables = read_tables(empty.write(tmp_path))
    with pytest.raises(NoDataError):
        compute(tables, FFY2022, con=duckdb_con)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # a 30 + b 365 + f 8 + g 165 + h 0 (White); c 10 + d 29 (Black); e (Hispanic) is a
        # short stay, so no Hispanic group appears
        ("race", {"White": 568, "Black or African American": 39}),
        # male a 30 + c 10 + g 165 + h 0; female b 365 + d 29 + f 8
        ("sex", {"male": 205, "female": 402}),
    ],
)
def test_days_in_care_by_race_and_sex(
    by: str, expected: dict[str, int], tmp_path: Path, duckdb_con: Any
) -> None:
    case = next(c for c in ALL_CASES if c.name == "days_in_care")
    tables = read_tables(case.write(tmp_path))
    result = compute(tables, case.period_start, by=by, con=duckdb_con, through=case.through)
    breakdown = result["indicators"]["maltreatment_in_care"]["breakdown"]
    assert {g["group"]: g["denominator"] for g in breakdown} == expected


def test_age_standardised_approximation_by_hand(tmp_path: Path, duckdb_con: Any) -> None:
    case = next(c for c in ALL_CASES if c.name == "permanency_entries")
    tables = read_tables(case.write(tmp_path))
    result = compute(tables, case.period_start, by="county", con=duckdb_con, through=case.through)
    adjusted = {
        g["group"]: g["age_standardised_approximation"]
        for g in result["indicators"]["permanency_12_entries"]["breakdown"]
    }
    # Whole input by age at entry: 6-10 -> 4 of 9, 17+ -> 0 of 1; overall 40 %.
    # Leon (five 6-10s, 3 permanent): expected 5 x 4/9 = 2.222; 3 / 2.222 x 40 = 54.0
    # Wakulla (four 6-10s + p10 at 17, 1 permanent): expected 4 x 4/9 + 0 = 1.778;
    # 1 / 1.778 x 40 = 22.5
    assert adjusted == {"Leon": 54.0, "Wakulla": 22.5}


def test_reentry_breakdown_by_age_group_uses_age_at_exit(tmp_path: Path, duckdb_con: Any) -> None:
    case = next(c for c in ALL_CASES if c.name == "reentry")
    tables = read_tables(case.write(tmp_path))
    result = compute(
        tables, case.period_start, by="age_group", con=duckdb_con, through=case.through
    )
    groups = {
        g["group"]: (g["numerator"], g["denominator"])
        for g in result["indicators"]["reentry_12"]["breakdown"]
    }
    # x8 (born 2004-07-01) is 17 at its exit on 2022-06-30 (16 at its removal); the others,
    # born 2015-01-01, are 6 at exit
    assert groups == {"6-10": (5, 7), "17+": (1, 1)}
