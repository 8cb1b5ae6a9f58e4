"""Age bands: whole years by the birthday rule, at every band edge and on 29 February."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa
import pytest

from kinfolk.outcomes.engine import AGE_GROUPS, _age_band, _age_group_label


def whole_years(dob: dt.date, on: dt.date) -> int:
    # The rule written out: a year more once the birthday (month, day) is reached.
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def expected_label(dob: dt.date | None, on: dt.date) -> str:
    if dob is None:
        return "unknown"
    age = whole_years(dob, on)
    return next(
        label
        for label, top in zip(AGE_GROUPS, (0, 5, 10, 16, None), strict=True)
        if top is None or age <= top
    )


def _pairs() -> list[tuple[dt.date | None, dt.date]]:
    pairs: list[tuple[dt.date | None, dt.date]] = [(None, dt.date(2022, 1, 1))]
    for years in (1, 6, 11, 17):
        dob = dt.date(2004, 6, 15)
        birthday = dob.replace(year=dob.year + years)
        # the day before the birthday, the birthday, the day after
        pairs += [(dob, birthday - dt.timedelta(days=1)), (dob, birthday)]
        pairs.append((dob, birthday + dt.timedelta(days=1)))
    leap = dt.date(2004, 2, 29)
    # A 29 February birthday is reached on 1 March in other years, on 29 February in leap years.
    pairs += [(leap, dt.date(2021, 2, 28)), (leap, dt.date(2021, 3, 1))]
    pairs += [(leap, dt.date(2010, 2, 28)), (leap, dt.date(2010, 3, 1))]
    pairs += [(leap, dt.date(2020, 2, 28)), (leap, dt.date(2020, 2, 29))]
    # A date before birth (a report before the child was born) is in the first band.
    pairs.append((dt.date(2022, 5, 1), dt.date(2022, 1, 1)))
    return pairs


@pytest.mark.parametrize("pair", _pairs(), ids=lambda p: f"{p[0]}-{p[1]}")
def test_age_band_follows_the_birthday_rule(pair: tuple[Any, dt.date], duckdb_con: Any) -> None:
    dob, on = pair
    table = ibis.memtable(
        pa.table({"dob": pa.array([dob], pa.date32()), "on": pa.array([on], pa.date32())})
    )
    got = duckdb_con.to_pyarrow(
        table.select(label=_age_group_label(_age_band(table.dob, table.on)))
    ).to_pylist()
    assert got == [{"label": expected_label(dob, on)}]
