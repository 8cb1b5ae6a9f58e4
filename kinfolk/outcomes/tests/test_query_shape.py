"""What makes the engine fast at scale, without changing a figure.

A breakdown reads only its own columns, a report's repeated maltreatment rows are not made
distinct (no indicator depends on them), the reports are read once (for the indicators and
the data-quality checks), and the children once for every join. Each is checked here
on the hand-worked cases.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kinfolk.federal.tables import open_tables, read_tables
from kinfolk.outcomes import engine, quality
from kinfolk.outcomes.compute import compute, compute_period, connect, result_query
from kinfolk.outcomes.engine import BREAKDOWNS, INDICATORS, Period
from kinfolk.outcomes.tests.cases import ALL_CASES, FFY2022, Case
from kinfolk.outcomes.tests.test_spark import THROUGH, figures, merged

FFY = [c for c in ALL_CASES if c.period_start == FFY2022]
PERIOD = Period.starting(FFY2022)


def _with_every_report_row_twice(case: Case) -> Case:
    """Each report row followed by a second maltreatment of the same report (another type)."""
    rows = []
    for line in case.reports.splitlines():
        fields = line.split(",")
        again = fields.copy()
        again[4] = "9" if fields[4] != "9" else "8"
        rows += [line, ",".join(again)]
    return Case(
        name=f"{case.name}_twice",
        period_start=case.period_start,
        children=case.children,
        episodes=case.episodes,
        placements=case.placements,
        reports="".join(f"{row}\n" for row in rows),
    )


@pytest.mark.parametrize("by", [None, *BREAKDOWNS])
def test_repeated_maltreatment_rows_change_no_figure(
    by: str | None, tmp_path: Path, duckdb_con: Any
) -> None:
    case = merged(FFY)
    once = read_tables(case.write(tmp_path / "once"))
    twice = read_tables(_with_every_report_row_twice(case).write(tmp_path / "twice"))
    assert twice["reports"].num_rows == 2 * once["reports"].num_rows
    expected = figures(duckdb_con, once, PERIOD, by)
    assert figures(duckdb_con, twice, PERIOD, by) == expected


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.reports], ids=lambda c: c.name)
def test_hand_worked_figures_hold_with_every_report_row_twice(
    case: Case, tmp_path: Path, duckdb_con: Any
) -> None:
    tables = read_tables(_with_every_report_row_twice(case).write(tmp_path))
    result = compute(tables, case.period_start, con=duckdb_con, through=case.through)
    got = {
        name: (result["indicators"][name]["numerator"], result["indicators"][name]["denominator"])
        for name in case.expected
    }
    assert got == case.expected


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_a_breakdown_gives_what_the_query_with_every_column_gives(
    by: str, tmp_path: Path, duckdb_con: Any
) -> None:
    tables = read_tables(merged(FFY).write(tmp_path / "ffy"))
    # Every breakdown column carried, and the aggregate grouped by one of them: the shape the
    # engine had before each breakdown read only its own columns.
    rows = duckdb_con.to_pyarrow(
        engine.aggregate(engine.unit_tables(tables, PERIOD), by)
    ).to_pylist()
    wide: dict[str, dict[str, list[int]]] = {name: {} for name in INDICATORS}
    for row in rows:
        cell = wide[row["indicator"]].setdefault(str(row["group"]), [0, 0])
        cell[0] += int(row["numerator"] or 0)
        cell[1] += int(row["denominator"] or 0)
    narrow = compute_period(duckdb_con, tables, PERIOD, by=by, through=THROUGH)
    for name in INDICATORS:
        groups = {g["group"]: [g["numerator"], g["denominator"]] for g in narrow[name]["breakdown"]}
        assert groups == wide[name], name


def _sql(directory: Path, by: str | None) -> tuple[str, dict[str, str]]:
    con = connect("duckdb")
    tables = open_tables(directory, con)
    query = result_query(tables, PERIOD, by=by, through=dt.date(2025, 12, 31))
    views = {name: table.op().name for name, table in tables.items()}
    return str(con.compile(query)), views


def test_without_a_breakdown_no_breakdown_column_is_read(tmp_path: Path) -> None:
    sql, _ = _sql(merged(FFY).write(tmp_path / "ffy"), None)
    for column in ("race_white", "race_asian", "hispanic", '"sex"', "county", "office", "circuit"):
        assert column not in sql, column


@pytest.mark.parametrize(
    ("by", "read", "unread"),
    [
        ("race", ("race_white", "hispanic"), ('"sex"', "county")),
        ("sex", ('"sex"',), ("race_white", "county")),
        ("county", ("county",), ("office", "circuit", "race_white")),
    ],
)
def test_a_breakdown_reads_its_own_columns_only(
    by: str, read: tuple[str, ...], unread: tuple[str, ...], tmp_path: Path
) -> None:
    sql, _ = _sql(merged(FFY).write(tmp_path / "ffy"), by)
    for column in read:
        assert column in sql, column
    for column in unread:
        assert column not in sql, column


def test_the_reports_are_read_once_for_the_indicators_and_the_data_quality_checks(
    tmp_path: Path,
) -> None:
    sql, views = _sql(merged(FFY).write(tmp_path / "ffy"), None)
    # The victim rows, joined to their children, are one named relation shared by maltreatment
    # in care, recurrence and the report checks.
    assert sql.count(f'"{views["reports"]}"') == 1


@pytest.mark.parametrize("by", [None, "county"])
def test_the_episodes_are_read_once_for_the_indicators_and_the_data_quality_checks(
    by: str | None, tmp_path: Path
) -> None:
    sql, views = _sql(merged(FFY).write(tmp_path / "ffy"), by)
    # The episode checks (the discharge-reason check too) and the episodes side of the join to
    # the placements read the episodes joined to their children, as the indicators do.
    assert sql.count(f'"{views["episodes"]}"') == 1


@pytest.mark.parametrize("by", [None, "race", "sex", "county"])
def test_the_children_are_read_once_for_every_join(by: str | None, tmp_path: Path) -> None:
    sql, views = _sql(merged(FFY).write(tmp_path / "ffy"), by)
    # The episodes, the recurrence cohort and the data-quality checks join to one named read
    # of the children (at national scale each read of the table costs half a CPU-second).
    assert sql.count(f'"{views["children"]}"') == 1


def test_two_bases_with_different_child_columns_run_in_one_query(
    tmp_path: Path, duckdb_con: Any
) -> None:
    tables = read_tables(merged(FFY).write(tmp_path / "ffy"))
    # The checks on a base with every breakdown column, the indicators on one with none: each
    # base names its read of the children after the columns it holds.
    checks = quality.counts_query(tables, engine.day_number(THROUGH), PERIOD)
    narrow = engine.aggregate(
        engine.unit_tables(tables, PERIOD, base=engine.base_tables(tables, ())), None
    )
    both = narrow.cross_join(checks.aggregate(flagged=checks.flagged.sum()))
    rows = duckdb_con.to_pyarrow(both).to_pylist()
    flagged = duckdb_con.to_pyarrow(checks).to_pylist()
    assert {row["flagged"] for row in rows} == {sum(row["flagged"] for row in flagged)}
    assert len(rows) == len(duckdb_con.to_pyarrow(narrow).to_pylist())


def test_the_shared_victim_reports_give_the_hand_worked_figures(
    tmp_path: Path, duckdb_con: Any
) -> None:
    for case in (c for c in ALL_CASES if c.name in ("maltreatment_in_care", "recurrence")):
        con = connect("duckdb")
        tables = open_tables(case.write(tmp_path / case.name), con)
        result = compute(tables, case.period_start, con=con, through=case.through)
        for name, expected in case.expected.items():
            entry = result["indicators"][name]
            assert (entry["numerator"], entry["denominator"]) == expected


def test_a_second_compute_in_the_process_reuses_the_compiled_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kinfolk.outcomes import compute as compute_module

    case = next(c for c in ALL_CASES if c.name == "reentry")
    con = connect("duckdb")
    tables = open_tables(case.write(tmp_path / "reentry"), con)
    first = compute(tables, case.period_start, by="county", con=con, through=case.through)

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the query was built again")

    monkeypatch.setattr(compute_module, "result_query", not_again)
    assert compute(tables, case.period_start, by="county", con=con, through=case.through) == first
    entry = first["indicators"]["reentry_12"]
    assert (entry["numerator"], entry["denominator"]) == case.expected["reentry_12"]
    # Another breakdown, period or data end is another query.
    with pytest.raises(AssertionError, match="built again"):
        compute(tables, case.period_start, by="sex", con=con, through=case.through)
    with pytest.raises(AssertionError, match="built again"):
        compute(tables, dt.date(2022, 10, 1), by="county", con=con, through=case.through)


def test_arrow_tables_are_not_cached_and_give_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kinfolk.outcomes import compute as compute_module

    case = next(c for c in ALL_CASES if c.name == "recurrence")
    directory = case.write(tmp_path / "recurrence")
    con = connect("duckdb")
    lazy = compute(open_tables(directory, con), case.period_start, con=con, through=case.through)
    calls = []
    built = compute_module.result_query

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return built(*args, **kwargs)

    monkeypatch.setattr(compute_module, "result_query", counted)
    for _ in range(2):
        arrow = compute(read_tables(directory), case.period_start, con=con, through=case.through)
        assert arrow == lazy
    assert len(calls) == 2
