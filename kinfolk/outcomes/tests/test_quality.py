"""Data-quality checks flag crafted bad data and mark the indicators that depend on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kinfolk.federal.tables import read_tables
from kinfolk.outcomes.compute import compute
from kinfolk.outcomes.tests.cases import Case

BAD = Case(
    name="bad",
    period_start=dt.date(2021, 10, 1),
    children=(
        "k1,2022-05-01,1,1,0,2\n"  # born after its removal
        "k2,,2,1,0,2\n"  # no date of birth
        "k3,1990-01-01,1,1,0,2\n"  # over 21 while in care
        "k4,2015-01-01,1,1,0,2\n"
    ),
    episodes=(
        "k1,2022-01-01,2022-06-01,,Leon\n"  # discharged, reason missing
        "k2,2021-11-01,,,Leon\n"
        "k3,1995-01-01,,,Leon\n"  # in care for 26 years by 2022
        "k4,2022-02-01,2022-01-15,1,Leon\n"  # discharged before removal
    ),
    placements="k4,2022-02-01,2022-02-01,,3,0,A\n",
    reports=(
        "X1,k1,2022-03-01,,2,1,Leon\n"  # victim report before birth
        "X2,k9,2022-03-01,,2,2,Leon\n"  # victim report of a child not in children
        # Not victim rows (level 5, 7): outside both report checks, whatever is wrong with them.
        "X3,k9,2022-03-01,,2,5,Leon\n"
        "X4,k1,2022-03-01,,2,7,Leon\n"
        # Victim rows outside the reports the indicators of P read (P to a year after P): no
        # figure of P reads them, so neither check counts them.
        "X5,k4,2021-09-30,,2,1,Leon\n"
        "X6,k4,2023-10-01,,2,1,Leon\n"
    ),
)


def checks_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in result["data_quality"]}


def test_each_check_measures_its_share(tmp_path: Path, duckdb_con: Any) -> None:
    tables = read_tables(BAD.write(tmp_path))
    checks = checks_of(
        compute(tables, BAD.period_start, con=duckdb_con, through=dt.date(2025, 1, 1))
    )
    # 4 episodes: one each of dob after removal, missing dob, discharge before removal;
    # k3 over 21 and over 21 years in care; 2 discharged episodes, one without a reason;
    # 2 victim report rows in the window: one before birth, one of an unknown child; 3 of 4
    # episodes lack placement rows.
    expected = {
        "dob_after_removal": 0.25,
        "missing_dob": 0.25,
        "discharge_before_removal": 0.25,
        "age_over_21": 0.25,
        "in_care_over_21_years": 0.25,
        "missing_discharge_reason": 0.5,
        "report_before_birth": 0.5,
        "report_child_unknown": 0.5,
        "episode_without_placements": 0.75,
    }
    assert {name: checks[name]["value"] for name in expected} == expected
    assert not any(check["passed"] for check in checks.values())


def test_failed_checks_are_named_on_the_indicators(tmp_path: Path, duckdb_con: Any) -> None:
    tables = read_tables(BAD.write(tmp_path))
    result = compute(tables, BAD.period_start, con=duckdb_con, through=dt.date(2025, 1, 1))
    recurrence = result["indicators"]["recurrence"]["data_quality_failed"]
    assert recurrence == ["report_before_birth", "report_child_unknown"]
    stability = result["indicators"]["placement_stability"]["data_quality_failed"]
    assert "episode_without_placements" in stability and "missing_dob" in stability
    assert "missing_discharge_reason" not in stability


def test_clean_data_passes_every_check(tmp_path: Path, duckdb_con: Any) -> None:
    clean = Case(
        name="clean",
        period_start=dt.date(2021, 10, 1),
        children="c1,2015-01-01,1,1,0,2\n",
        episodes="c1,2022-01-01,2022-03-01,1,Leon\n",
        placements="c1,2022-01-01,2022-01-01,,3,0,A\n",
        reports="R1,c1,2021-12-01,,2,1,Leon\n",
    )
    tables = read_tables(clean.write(tmp_path))
    result = compute(tables, clean.period_start, con=duckdb_con, through=dt.date(2025, 1, 1))
    assert all(check["passed"] for check in result["data_quality"])
    assert all(not e["data_quality_failed"] for e in result["indicators"].values())


class CountingConnection:
    """A backend that counts the queries it is asked to run."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.queries = 0

    def to_pyarrow(self, expr: Any) -> Any:
        self.queries += 1
        return self.con.to_pyarrow(expr)


def test_indicators_and_checks_come_back_in_one_query(tmp_path: Path, duckdb_con: Any) -> None:
    # At state scale the fixed cost of compiling and planning a query outweighs the work, so the
    # checks ride along in the indicators' query rather than running as a second one.
    tables = read_tables(BAD.write(tmp_path))
    counting = CountingConnection(duckdb_con)
    result = compute(tables, BAD.period_start, con=counting, through=dt.date(2025, 1, 1))
    assert counting.queries == 1
    assert checks_of(result)["episode_without_placements"]["value"] == 0.75
    assert result["indicators"]["recurrence"]["denominator"] is not None
