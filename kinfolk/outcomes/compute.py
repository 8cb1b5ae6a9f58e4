"""Compute the seven indicators for one or more 12-month periods and shape the result."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from kinfolk.outcomes import engine, quality
from kinfolk.outcomes.engine import INDICATORS, Period, Tables

UNITS = {
    "maltreatment_in_care": "victimizations per 100,000 days in care",
    "recurrence": "percent",
    "permanency_12_entries": "percent",
    "permanency_12_23": "percent",
    "permanency_24_plus": "percent",
    "reentry_12": "percent",
    "placement_stability": "moves per 1,000 days in care",
}
SCALE = {
    "maltreatment_in_care": 100_000,
    "placement_stability": 1_000,
}

# National performance for the CFSR Round 4 statewide data indicators (Children's Bureau, CFSR
# Round 4 Statewide Data Indicators workbook and data profiles). Corroborated by a secondary copy
# only (childmetrix-admin/CM-REPORTS, cfsr/_import/code/cfsr_round4_indicators_dictionary.csv,
# which gives exactly these seven values); not yet checked against the workbook itself. See
# DEFINITIONS.md, "National performance". Observed state performance is compared with these.
NATIONAL_PERFORMANCE: dict[str, dict[str, Any]] = {
    "maltreatment_in_care": {"value": 9.07, "better": "lower"},
    "recurrence": {"value": 9.7, "better": "lower"},
    "permanency_12_entries": {"value": 35.2, "better": "higher"},
    "permanency_12_23": {"value": 43.8, "better": "higher"},
    "permanency_24_plus": {"value": 37.3, "better": "higher"},
    "reentry_12": {"value": 5.6, "better": "lower"},
    "placement_stability": {"value": 4.48, "better": "lower"},
}

DATE_COLUMNS = {
    "episodes": ("removal_date", "discharge_date"),
    "placements": ("start_date", "end_date"),
    "reports": ("report_date",),
}


# The "indicator" of the data-quality rows in the combined query (no indicator has this name).
QUALITY_ROWS = "data_quality"


class NoDataError(ValueError):
    """The tables hold no dated events at all."""


def rate(numerator: int, denominator: int, indicator: str) -> float | None:
    if denominator == 0:
        return None
    scale = SCALE.get(indicator, 100)
    value = Decimal(numerator * scale) / Decimal(denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def data_through(tables: Tables, con: Any = None) -> dt.date:
    """The latest event date in the tables: how far the data reach."""
    latest: dt.date | None = None
    values: list[Any] = []
    # Tables opened from Parquet files (open_tables) may know their latest dates from the
    # files' statistics: no scan then (at national scale the scan takes half a second).
    known: Mapping[str, Mapping[str, Any]] = getattr(tables, "latest", {})
    if all(c in known.get(name, {}) for name, columns in DATE_COLUMNS.items() for c in columns):
        values.extend(known[name][c] for name, columns in DATE_COLUMNS.items() for c in columns)
    elif all(isinstance(tables[name], pa.Table) for name in DATE_COLUMNS):
        for name, columns in DATE_COLUMNS.items():
            values.extend(pc.max(tables[name].column(c)).as_py() for c in columns)
    else:
        # One query over the files (or whatever the Ibis tables stand for).
        query: Any = None
        for name, columns in DATE_COLUMNS.items():
            table = engine.as_table(tables[name])
            part = table.aggregate(**{f"{name}_{c}": table[c].max() for c in columns})
            query = part if query is None else query.cross_join(part)
        row = (con.to_pyarrow(query) if con is not None else query.to_pyarrow()).to_pylist()[0]
        values.extend(row.values())
    for value in values:
        if isinstance(value, dt.datetime):
            value = value.date()
        if value is not None and (latest is None or value > latest):
            latest = value
    if latest is None:
        raise NoDataError("the tables contain no episodes, placements or reports")
    return latest


def connect(backend: str) -> Any:
    """An Ibis connection for the named backend (DuckDB in memory, or a local Spark)."""
    import ibis

    if backend == "duckdb":
        return ibis.duckdb.connect()
    if backend == "pyspark":
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.master("local[2]")
            .appName("kinfolk-outcomes")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    raise ValueError(f"unknown backend {backend!r}: use duckdb or pyspark")


def _indicator_entry(
    indicator: str,
    numerator: int | None,
    denominator: int | None,
    computable: bool,
    reason: str | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "numerator": numerator,
        "denominator": denominator,
        "value": (
            rate(numerator, denominator, indicator)
            if computable and numerator is not None and denominator is not None
            else None
        ),
        "unit": UNITS[indicator],
        "computable": computable,
    }
    if reason:
        entry["reason"] = reason
    return entry


def compute_period(
    con: Any,
    tables: Tables,
    period: Period,
    *,
    by: str | None = None,
    through: dt.date,
) -> dict[str, Any]:
    """Numerators, denominators and values of every indicator for one period."""
    base = engine.base_tables(tables, engine.breakdown_columns(by))
    units = engine.unit_tables(tables, period, base=base)
    rows = con.to_pyarrow(engine.aggregate(units, by)).to_pylist()
    return _shape_period(rows, period, by=by, through=through)


def _shape_period(
    rows: list[dict[str, Any]], period: Period, *, by: str | None, through: dt.date
) -> dict[str, Any]:
    """The per-indicator result from the aggregate's rows (indicator, group, stratum, sums)."""
    totals: dict[str, list[int]] = {name: [0, 0] for name in INDICATORS}
    groups: dict[str, dict[str, list[int]]] = {name: {} for name in INDICATORS}
    strata: dict[str, dict[tuple[str, str], list[int]]] = {name: {} for name in INDICATORS}
    for row in rows:
        name, group = row["indicator"], str(row["group"])
        num, den = int(row["numerator"] or 0), int(row["denominator"] or 0)
        totals[name][0] += num
        totals[name][1] += den
        cell = groups[name].setdefault(group, [0, 0])
        cell[0] += num
        cell[1] += den
        strata[name][(group, str(row["stratum"]))] = [num, den]
    indicators: dict[str, Any] = {}
    for name in INDICATORS:
        needed = period.end + dt.timedelta(days=engine.FOLLOW_UP_DAYS[name])
        if through < needed:
            reason = (
                f"not computable: needs data through {needed.isoformat()} "
                f"(the end of P plus the follow-up window); the data end on {through.isoformat()}"
            )
            indicators[name] = _indicator_entry(name, None, None, False, reason)
            if by is not None:
                indicators[name]["breakdown"] = []
            continue
        num, den = totals[name]
        indicators[name] = _indicator_entry(name, num, den, True, None)
        if by is not None:
            adjusted = age_standardised(name, strata[name]) if by != "age_group" else {}
            indicators[name]["breakdown"] = [
                {
                    "group": group,
                    **_indicator_entry(name, g_num, g_den, True, None),
                    **(
                        {"age_standardised_approximation": adjusted.get(group)}
                        if by != "age_group"
                        else {}
                    ),
                }
                for group, (g_num, g_den) in sorted(groups[name].items(), key=_group_order(by))
            ]
    return indicators


def _group_order(by: str | None) -> Callable[[tuple[str, Any]], tuple[int, str]]:
    """Breakdown groups in order: age groups youngest first, any other groups alphabetically;
    "unknown" last."""
    bands = {label: i for i, label in enumerate(engine.AGE_GROUPS)} if by == "age_group" else {}

    def key(item: tuple[str, Any]) -> tuple[int, str]:
        group = item[0]
        if group == "unknown":
            return (len(bands) + 1, group)
        return (bands.get(group, len(bands)), group)

    return key


def result_query(
    tables: Tables, period: Period, *, by: str | None = None, through: dt.date
) -> ir.Table:
    """The indicators' aggregate for P and the data-quality counts, as one query.

    One Ibis compilation, one plan, one round trip: at state scale the fixed cost of each
    dominates the work. The checks' rows are shaped like the aggregate's (``indicator`` is
    :data:`QUALITY_ROWS`, ``group`` the check, ``numerator`` / ``denominator`` the flagged /
    checked records).
    """
    base = engine.base_tables(tables, engine.breakdown_columns(by))
    counts = quality.counts_query(tables, engine.day_number(through), period, base=base)
    return engine.aggregate(engine.unit_tables(tables, period, base=base), by).union(
        counts.select(
            indicator=ibis.literal(QUALITY_ROWS, type="string"),
            group=counts.check,
            stratum=ibis.literal("", type="string"),
            numerator=counts.flagged,
            denominator=counts.records,
            units=counts.records,
        )
    )


# Compiled SQL of result_query, keyed by what the SQL text depends on: the input views (name and
# schema), P, the breakdown and the data's end. Building and compiling the Ibis expression costs
# half a second or more whatever the size of the data, which is most of the time at county and
# state scale; a process that computes the same figures again (a dashboard, a report run for
# several formats) pays it once. Only inputs that are views of a DuckDB connection (as
# ``open_tables`` gives) qualify: their SQL refers to nothing registered at run time, so it is
# right for any connection holding those views.
_SQL_CACHE: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_SQL_CACHE_SIZE = 64


def _sql_cache_key(
    connection: Any, tables: Tables, period: Period, by: str | None, through: dt.date
) -> tuple[Any, ...] | None:
    if getattr(connection, "name", None) != "duckdb":
        return None
    views = []
    for name in sorted(tables):
        table = tables[name]
        if not isinstance(table, ir.Table) or not isinstance(table.op(), ops.DatabaseTable):
            return None
        op = table.op()
        views.append((name, op.name, op.namespace, op.schema))
    return (tuple(views), period, by, through)


def _result_rows(
    connection: Any,
    tables: Tables,
    period: Period,
    *,
    by: str | None,
    through: dt.date,
    before_running: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """The rows of :func:`result_query`, compiling it at most once per process and key.

    ``before_running`` is called once the query is built and compiled, just before it runs
    (the tables' deferred checks are awaited there, so they run while the query is compiled).
    """
    key = _sql_cache_key(connection, tables, period, by, through)
    if key is None:
        query = result_query(tables, period, by=by, through=through)
        if before_running is not None:
            before_running()
        return list(connection.to_pyarrow(query).to_pylist())
    sql = _SQL_CACHE.get(key)
    if sql is None:
        sql = str(connection.compile(result_query(tables, period, by=by, through=through)))
        _SQL_CACHE[key] = sql
        while len(_SQL_CACHE) > _SQL_CACHE_SIZE:
            _SQL_CACHE.popitem(last=False)
    else:
        _SQL_CACHE.move_to_end(key)
    if before_running is not None:
        before_running()
    return list(connection.con.sql(sql).to_arrow_table().to_pylist())


def age_standardised(
    indicator: str, cells: Mapping[tuple[str, str], list[int]]
) -> dict[str, float | None]:
    """An APPROXIMATION of risk-standardised performance per group, by age group only.

    The Children's Bureau's risk-standardised performance comes from a multilevel model fitted
    on every state's data, which one agency cannot refit. This is indirect standardisation
    instead: a group's expected count is what it would have had at the whole input's age-specific
    rates; the result is observed / expected × the whole input's rate. It removes differences
    in age mix between groups (counties, offices, ...), nothing else, and is labelled as an
    approximation wherever it is shown.
    """
    by_age: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, age), (num, den) in cells.items():
        by_age[age][0] += num
        by_age[age][1] += den
    total_num = sum(v[0] for v in by_age.values())
    total_den = sum(v[1] for v in by_age.values())
    if total_den == 0:
        return {}
    observed: dict[str, float] = defaultdict(float)
    expected: dict[str, float] = defaultdict(float)
    for (group, age), (num, den) in cells.items():
        observed[group] += num
        age_num, age_den = by_age[age]
        expected[group] += den * (age_num / age_den if age_den else 0.0)
    overall = total_num / total_den * SCALE.get(indicator, 100)
    out: dict[str, float | None] = {}
    for group in observed:
        if expected[group] == 0:
            out[group] = None
        else:
            value = Decimal(observed[group] / expected[group] * overall)
            out[group] = float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return out


def compute(
    tables: Tables,
    period_start: dt.date,
    *,
    by: str | None = None,
    periods: int = 1,
    backend: str = "duckdb",
    con: Any = None,
    through: dt.date | None = None,
) -> dict[str, Any]:
    """The full result: period, indicators (with national figures), data quality, trend.

    ``through`` is the date the data are complete to (the extract date); by default the latest
    event date in the tables, which is the most that can be proved from the data themselves.
    """
    if by is not None and by not in engine.BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}: use one of {', '.join(engine.BREAKDOWNS)}")
    if periods < 1:
        raise ValueError("periods must be at least 1")
    connection = con
    if connection is None:
        bound = [t for t in tables.values() if not isinstance(t, pa.Table)]
        # Ibis tables over files (open_tables) belong to their backend; Arrow tables go anywhere.
        connection = bound[0]._find_backend() if bound else connect(backend)
    deferred = getattr(tables, "deferred_checks", None)
    if through is None:
        through = data_through(tables, connection)
    period = Period.starting(period_start)
    rows = _result_rows(
        connection,
        tables,
        period,
        by=by,
        through=through,
        before_running=deferred.wait if deferred is not None else None,
    )
    dq_rows = [r for r in rows if r["indicator"] == QUALITY_ROWS]
    if deferred is not None and not deferred.verified:
        # Raises the error open_tables would have raised: no figure from invalid tables.
        counts = {str(r["group"]): int(r["numerator"] or 0) for r in dq_rows}
        deferred.verify(
            counts[quality.EPISODE_CHILD_MISSING], counts[quality.PLACEMENT_EPISODE_MISSING]
        )
    indicators = _shape_period(
        [r for r in rows if r["indicator"] != QUALITY_ROWS], period, by=by, through=through
    )
    checks = quality.evaluate(
        quality.shares(
            {"check": r["group"], "flagged": r["numerator"], "records": r["denominator"]}
            for r in dq_rows
        )
    )
    for name, entry in indicators.items():
        entry["national_performance"] = NATIONAL_PERFORMANCE[name]["value"]
        entry["better"] = NATIONAL_PERFORMANCE[name]["better"]
        entry["data_quality_failed"] = [
            str(c["check"]) for c in checks if not c["passed"] and name in c["affects"]
        ]

    if periods > 1:
        history = [period.shifted_years(-k) for k in range(periods - 1, -1, -1)]
        for earlier in history:
            result = (
                indicators
                if earlier == period
                else compute_period(connection, tables, earlier, through=through)
            )
            for name in INDICATORS:
                point = {
                    "period": {"start": earlier.start.isoformat(), "end": earlier.end.isoformat()},
                    "numerator": result[name]["numerator"],
                    "denominator": result[name]["denominator"],
                    "value": result[name]["value"],
                    "computable": result[name]["computable"],
                }
                indicators[name].setdefault("trend", []).append(point)

    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "data_through": through.isoformat(),
        "indicators": indicators,
        "data_quality": checks,
    }
