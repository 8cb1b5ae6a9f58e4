"""The worked cases give identical numbers on PySpark and DuckDB (slow: ``-m spark``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kinfolk.federal.tables import read_tables
from kinfolk.outcomes.compute import compute_period
from kinfolk.outcomes.engine import INDICATORS, Period
from kinfolk.outcomes.tests.cases import ALL_CASES, FFY2022, LEAP_YEAR, Case

pytestmark = pytest.mark.spark

THROUGH = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def spark_con() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from kinfolk.outcomes.compute import connect

    con = connect("pyspark")
    yield con
    con._session.stop()


def merged(cases: list[Case]) -> Case:
    """The FFY 2022 cases in one directory: their child ids are distinct, and every indicator
    is a sum over children, so each case's figures add up."""
    return Case(
        name="merged",
        period_start=FFY2022,
        children="".join(c.children for c in cases),
        episodes="".join(c.episodes for c in cases),
        placements="".join(c.placements for c in cases),
        reports="".join(c.reports for c in cases),
    )


def figures(con: Any, tables: Any, period: Period, by: str | None) -> dict[str, Any]:
    result = compute_period(con, tables, period, by=by, through=THROUGH)
    return {
        name: (
            result[name]["numerator"],
            result[name]["denominator"],
            sorted(
                (g["group"], g["numerator"], g["denominator"])
                for g in result[name].get("breakdown", [])
            ),
        )
        for name in INDICATORS
    }


def test_worked_cases_match_on_both_backends(
    spark_con: Any, duckdb_con: Any, tmp_path: Path
) -> None:
    ffy = [c for c in ALL_CASES if c.period_start == FFY2022]
    tables = read_tables(merged(ffy).write(tmp_path / "ffy2022"))
    period = Period.starting(FFY2022)
    on_duckdb = figures(duckdb_con, tables, period, by="county")
    assert figures(spark_con, tables, period, by="county") == on_duckdb
    # and the merged figures are the sums of the separately computed (hand-checked) cases
    separate = [
        figures(duckdb_con, read_tables(case.write(tmp_path / f"case{i}")), period, by=None)
        for i, case in enumerate(ffy)
    ]
    for name in INDICATORS:
        parts = [result[name] for result in separate]
        assert on_duckdb[name][:2] == (sum(p[0] for p in parts), sum(p[1] for p in parts))
        for case, part in zip(ffy, parts, strict=True):
            if name in case.expected:
                assert part[:2] == case.expected[name]


def test_full_result_with_data_quality_matches(
    spark_con: Any, duckdb_con: Any, tmp_path: Path
) -> None:
    from kinfolk.outcomes.compute import compute
    from kinfolk.outcomes.tests.test_quality import BAD

    tables = read_tables(BAD.write(tmp_path / "bad"))
    on_spark = compute(tables, BAD.period_start, by="race", con=spark_con, through=THROUGH)
    on_duckdb = compute(tables, BAD.period_start, by="race", con=duckdb_con, through=THROUGH)
    assert on_spark == on_duckdb
    assert not all(check["passed"] for check in on_spark["data_quality"])


def test_leap_year_case_on_spark(spark_con: Any, tmp_path: Path) -> None:
    tables = read_tables(LEAP_YEAR.write(tmp_path / "leap"))
    result = compute_period(
        spark_con, tables, Period.starting(LEAP_YEAR.period_start), through=THROUGH
    )
    for name, expected in LEAP_YEAR.expected.items():
        assert (result[name]["numerator"], result[name]["denominator"]) == expected
