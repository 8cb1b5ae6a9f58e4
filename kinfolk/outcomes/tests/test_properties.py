"""Property tests: random valid histories keep the indicators' invariants.

Each example is a *batch* of random histories (disjoint child ids), each history's episodes and
reports carrying its own county, so one query's county breakdown gives every history's figures
at once; the query's SQL is compiled once per period over registered table names. Building and
compiling the Ibis expression costs far more than running it on tiny data, so this is what lets
the tests look at many more histories in the same time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinfolk.federal.tables import ARROW_SCHEMAS, TABLE_NAMES, conform_tables
from kinfolk.outcomes import engine
from kinfolk.outcomes.compute import compute_period
from kinfolk.outcomes.engine import INDICATORS, Period

PERCENT = (
    "recurrence",
    "permanency_12_entries",
    "permanency_12_23",
    "permanency_24_plus",
    "reentry_12",
)
ORIGIN = dt.date(2016, 1, 1)
PERIOD = Period.starting(dt.date(2021, 10, 1))
HISTORIES = 8  # per example
CHILDREN = 30  # per history

# The generated data never fall on 29 February: offsets count the days of a calendar without
# leap days, so every date can be moved to any other year.
_CALENDAR = [
    d
    for d in (ORIGIN + dt.timedelta(days=k) for k in range(-7200, 7200))
    if (d.month, d.day) != (2, 29)
]
_ZERO = _CALENDAR.index(ORIGIN)

# Whole-year shifts that keep every date (and every 18th birthday that matters) inside
# 1901-03-01 .. 2100-02-28, where the Gregorian leap years repeat every 4 years.
SHIFT_RANGE = (-96, 64)

# Figures that only compare dates, ages and calendar months, never count days: shifting every
# date by *any* whole number of years keeps them. Day counts (days in care, "within 365 days",
# the 8-day, 14-day and 7-day rules) change when a leap day enters or leaves a window, so the
# whole result is only invariant under shifts by multiples of 4 years.
DATE_ORDER_FIGURES = (
    ("recurrence", 1),
    ("permanency_12_23", 0),
    ("permanency_12_23", 1),
    ("permanency_24_plus", 0),
    ("permanency_24_plus", 1),
    ("reentry_12", 1),
)


def day(offset: int) -> dt.date:
    return _CALENDAR[_ZERO + int(offset)]


def random_history(
    seed: int, children: int = 8, prefix: str = "c", county: str | None = None
) -> dict[str, pa.Table]:
    """Children with non-overlapping episodes, placements inside them, and reports."""
    rng = np.random.default_rng(seed)
    kids: list[dict[str, Any]] = []
    episodes: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for i in range(children):
        child = f"{prefix}{i}"
        born = int(rng.integers(-6600, 1800))
        kids.append(
            {
                "child_id": child,
                "date_of_birth": day(born),
                "sex": int(rng.choice([1, 2, 9])),
                "race_white": int(rng.integers(0, 2)),
                "hispanic": int(rng.choice([1, 2, 3])),
            }
        )
        cursor = int(rng.integers(max(born, -300), 1800))
        previous = None
        for j in range(int(rng.integers(0, 4))):
            removal = cursor + int(rng.integers(0, 200))
            # After a same-day discharge the next removal may fall on the same day, which
            # would be the same episode twice (an invalid history): it comes a day later.
            if previous is not None and removal <= previous:
                removal = previous + 1
            previous = removal
            length = int(rng.choice([int(rng.integers(0, 12)), int(rng.integers(0, 900))]))
            is_open = j == 2 or rng.random() < 0.15
            discharge = None if is_open else removal + length
            episodes.append(
                {
                    "child_id": child,
                    "removal_date": day(removal),
                    "discharge_date": None if discharge is None else day(discharge),
                    "discharge_reason": None if discharge is None else int(rng.integers(1, 9)),
                    "county": county or str(rng.choice(["Leon", "Wakulla"])),
                }
            )
            end = removal + (length if discharge is not None else int(rng.integers(0, 900)))
            starts = sorted(
                {
                    removal,
                    *(int(x) for x in rng.integers(removal, end + 1, size=int(rng.integers(0, 4)))),
                }
            )
            for start in starts:
                placements.append(
                    {
                        "child_id": child,
                        "removal_date": day(removal),
                        "start_date": day(start),
                        "setting": int(rng.integers(1, 9)),
                        "temporary": int(rng.random() < 0.1),
                        "provider_id": ["A", "B", None][int(rng.integers(0, 3))],
                    }
                )
            if discharge is None:
                break
            cursor = discharge
        for k in range(int(rng.integers(0, 5))):
            reported = int(rng.integers(1500, 2700))
            incident = None if rng.random() < 0.4 else day(reported - int(rng.integers(0, 30)))
            reports.append(
                {
                    "report_id": f"{child}-r{k}",
                    "child_id": child,
                    "report_date": day(reported),
                    "incident_date": incident,
                    "maltreatment_type": int(rng.integers(1, 10)),
                    "maltreatment_level": int(rng.choice([1, 2, 5])),
                    "county": county or "Leon",
                }
            )
    raw = {
        "children": pa.Table.from_pylist(kids),
        "episodes": pa.Table.from_pylist(
            episodes,
            schema=pa.schema(
                [
                    ("child_id", pa.string()),
                    ("removal_date", pa.date32()),
                    ("discharge_date", pa.date32()),
                    ("discharge_reason", pa.int64()),
                    ("county", pa.string()),
                ]
            ),
        ),
        "placements": pa.Table.from_pylist(
            placements,
            schema=pa.schema(
                [
                    ("child_id", pa.string()),
                    ("removal_date", pa.date32()),
                    ("start_date", pa.date32()),
                    ("setting", pa.int64()),
                    ("temporary", pa.int64()),
                    ("provider_id", pa.string()),
                ]
            ),
        ),
        "reports": pa.Table.from_pylist(
            reports,
            schema=pa.schema(
                [
                    ("report_id", pa.string()),
                    ("child_id", pa.string()),
                    ("report_date", pa.date32()),
                    ("incident_date", pa.date32()),
                    ("maltreatment_type", pa.int64()),
                    ("maltreatment_level", pa.int64()),
                    ("county", pa.string()),
                ]
            ),
        ),
    }
    return conform_tables(raw)


class BatchFigures:
    """Figures of every history in a batch, from one query over registered tables."""

    def __init__(self) -> None:
        self.raw = duckdb.connect()
        self.con = ibis.duckdb.from_connection(self.raw)
        self.sql: dict[Period, str] = {}

    def __call__(
        self, tables: Mapping[str, pa.Table], period: Period = PERIOD
    ) -> dict[str, dict[str, tuple[int, int]]]:
        for name in TABLE_NAMES:
            self.raw.register(f"property_{name}", tables[name])
        if period not in self.sql:
            named = {name: self.con.table(f"property_{name}") for name in TABLE_NAMES}
            query = engine.aggregate(engine.unit_tables(named, period), "county")
            self.sql[period] = str(self.con.compile(query))
        figures: dict[str, dict[str, list[int]]] = {}
        for row in self.raw.sql(self.sql[period]).to_arrow_table().to_pylist():
            cell = figures.setdefault(str(row["group"]), {}).setdefault(row["indicator"], [0, 0])
            cell[0] += int(row["numerator"] or 0)
            cell[1] += int(row["denominator"] or 0)
        return {
            group: {name: tuple(cells.get(name, (0, 0))) for name in INDICATORS}  # type: ignore[misc]
            for group, cells in figures.items()
        }


@pytest.fixture(scope="module")
def batch_figures() -> BatchFigures:
    return BatchFigures()


def batch(seed: int, histories: int = HISTORIES) -> dict[str, pa.Table]:
    """Several random histories in one set of tables: history ``h<k>`` is the county ``h<k>``."""
    rng = np.random.default_rng(seed)
    parts = [
        random_history(int(rng.integers(0, 2**32)), CHILDREN, prefix=f"h{k}c", county=f"h{k}")
        for k in range(histories)
    ]
    return {name: pa.concat_tables([part[name] for part in parts]) for name in TABLE_NAMES}


def shift_years(tables: Mapping[str, pa.Table], years: int) -> dict[str, pa.Table]:
    out = {}
    for name, table in tables.items():
        for i, field in enumerate(table.schema):
            if pa.types.is_date32(field.type):
                values = [
                    None if v is None else v.replace(year=v.year + years)
                    for v in table.column(i).to_pylist()
                ]
                table = table.set_column(i, field, pa.array(values, pa.date32()))
        out[name] = table
    return out


def outsiders(seed: int, tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """One child per history whose whole history lies years before P and its follow-ups."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_NAMES}
    for county in sorted(set(tables["episodes"].column("county").to_pylist())):
        child = f"{county}-outsider"
        removal = dt.date(2012, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1000)))
        rows["children"].append({"child_id": child, "date_of_birth": dt.date(2008, 5, 5), "sex": 1})
        rows["episodes"].append(
            {
                "child_id": child,
                "removal_date": removal,
                "discharge_date": removal + dt.timedelta(days=int(rng.integers(0, 400))),
                "discharge_reason": int(rng.integers(1, 9)),
                "county": county,
            }
        )
        rows["placements"].append(
            {
                "child_id": child,
                "removal_date": removal,
                "start_date": removal,
                "setting": 3,
                "temporary": 0,
            }
        )
        rows["reports"].append(
            {
                "report_id": f"{child}-1",
                "child_id": child,
                "report_date": removal,
                "maltreatment_type": 1,
                "maltreatment_level": 1,
                "county": county,
            }
        )
    return {
        name: pa.concat_tables(
            [tables[name], pa.Table.from_pylist(rows[name], tables[name].schema)]
        )
        for name in TABLE_NAMES
    }


multiples_of_four = st.integers(SHIFT_RANGE[0] // 4, SHIFT_RANGE[1] // 4).map(lambda k: 4 * k)
any_years = st.integers(*SHIFT_RANGE)


# Each example checks HISTORIES random histories of CHILDREN children; one compile (about a
# second) per new shift and three sub-second queries keep 15 examples within a minute.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    years=st.one_of(multiples_of_four, any_years).filter(lambda y: y != 0),
    other=st.integers(0, 2**32 - 1),
)
def test_random_histories_keep_the_invariants(
    batch_figures: BatchFigures, seed: int, years: int, other: int
) -> None:
    tables = batch(seed)
    base = batch_figures(tables)

    # 0 <= numerator <= denominator for percentages; rates are never negative.
    for history in base.values():
        for name, (num, den) in history.items():
            assert num >= 0 and den >= 0, name
            if name in PERCENT:
                assert num <= den, name

    # Shifting every date (and P) by a whole number of years: by a multiple of 4 changes
    # nothing; by any other number, the figures that only compare dates stay the same.
    shifted = batch_figures(shift_years(tables, years), PERIOD.shifted_years(years))
    if years % 4 == 0:
        assert shifted == base
    else:
        for group, history in base.items():
            for name, part in DATE_ORDER_FIGURES:
                assert shifted[group][name][part] == history[name][part], (group, name)

    # Adding a child outside every cohort to each history changes nothing.
    assert batch_figures(outsiders(other, tables)) == base


def test_a_shift_by_two_years_changes_day_counts_when_p_gains_a_leap_day(
    batch_figures: BatchFigures,
) -> None:
    # Why only multiples of 4 keep everything: one child in care before, during and after P.
    # FFY 2022 has 365 days; shifted by 2 years, FFY 2024 holds 29 February 2024: 366 days.
    rows: dict[str, list[dict[str, Any]]] = {
        "children": [{"child_id": "y", "date_of_birth": dt.date(2015, 1, 1), "sex": 1}],
        "episodes": [{"child_id": "y", "removal_date": dt.date(2020, 5, 1), "county": "h0"}],
        "placements": [
            {
                "child_id": "y",
                "removal_date": dt.date(2020, 5, 1),
                "start_date": dt.date(2020, 5, 1),
                "setting": 3,
                "temporary": 0,
            }
        ],
        "reports": [],
    }
    tables = conform_tables(
        {name: pa.Table.from_pylist(rows[name], ARROW_SCHEMAS[name]) for name in TABLE_NAMES}
    )
    assert batch_figures(tables)["h0"]["maltreatment_in_care"] == (0, 365)
    shifted = batch_figures(shift_years(tables, 2), PERIOD.shifted_years(2))
    assert shifted["h0"]["maltreatment_in_care"] == (0, 366)


def test_batched_figures_are_the_figures_of_each_history_alone(
    batch_figures: BatchFigures, duckdb_con: Any
) -> None:
    # The batching itself: a history's figures in the batch are its figures computed alone.
    tables = batch(7, histories=3)
    together = batch_figures(tables)
    for k in range(3):
        alone = {
            name: tables[name].filter(
                pa.compute.starts_with(tables[name].column("child_id"), f"h{k}c")
            )
            for name in TABLE_NAMES
        }
        result = compute_period(
            duckdb_con, alone, PERIOD, through=PERIOD.end + dt.timedelta(days=1000)
        )
        assert together[f"h{k}"] == {
            name: (result[name]["numerator"], result[name]["denominator"]) for name in INDICATORS
        }


def test_random_histories_are_not_trivial(batch_figures: BatchFigures) -> None:
    # Guard against a generator that never puts anyone in a cohort, nor a leap-free calendar
    # that is not one.
    assert not any((d.month, d.day) == (2, 29) for d in _CALENDAR)
    totals = dict.fromkeys(PERCENT, 0)
    for history in batch_figures(batch(0)).values():
        for name in PERCENT:
            totals[name] += history[name][1]
    assert all(total > 0 for total in totals.values()), totals
