"""Data-quality checks, in the spirit of the data dictionary's AFCARS and NCANDS checks.

Each check is a share of records (0.0–1.0) computed in the engine, with a threshold; an indicator
whose data fails a check it depends on says so in its ``data_quality_failed`` list. See
DEFINITIONS.md for the source of each check and why the thresholds are what they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from kinfolk.outcomes.engine import (
    Base,
    Period,
    Tables,
    base_tables,
    episodes_with_child,
    report_window,
    victims_with_child,
)

FOSTER_CARE = (
    "maltreatment_in_care",
    "permanency_12_entries",
    "permanency_12_23",
    "permanency_24_plus",
    "reentry_12",
    "placement_stability",
)
EXITS = ("permanency_12_entries", "permanency_12_23", "permanency_24_plus", "reentry_12")
REPORTS = ("maltreatment_in_care", "recurrence")

DAYS_IN_21_YEARS = 7670  # 21 × 365.25, rounded


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    threshold: float
    affects: tuple[str, ...]


CHECKS = (
    Check(
        "dob_after_removal",
        "episodes whose child's date of birth is after the removal date",
        0.0,
        FOSTER_CARE,
    ),
    Check(
        "missing_dob",
        "episodes whose child has no date of birth",
        0.05,
        FOSTER_CARE,
    ),
    Check(
        "missing_discharge_reason",
        "discharged episodes with no discharge reason",
        0.05,
        EXITS,
    ),
    Check(
        "discharge_before_removal",
        "episodes discharged before their removal date",
        0.0,
        FOSTER_CARE,
    ),
    Check(
        "age_over_21",
        "episodes where the child is over 21 at discharge (or today's data end, if in care)",
        0.0,
        FOSTER_CARE,
    ),
    Check(
        "in_care_over_21_years",
        "episodes lasting more than 21 years",
        0.0,
        FOSTER_CARE,
    ),
    Check(
        "report_before_birth",
        "victim report rows (reported in P or the year after) dated before the child's birth",
        0.05,
        REPORTS,
    ),
    Check(
        "report_child_unknown",
        "victim report rows (reported in P or the year after) whose child_id is not in the "
        "children table",
        0.05,
        REPORTS,
    ),
    Check(
        "episode_without_placements",
        "episodes with no placement rows",
        0.05,
        ("placement_stability",),
    ),
)


# Not data-quality checks: the tables' two reference rules (an episode's child is in children,
# a placement's episode is in episodes), counted here from joins the checks make anyway, so that
# tables opened with their checks deferred (``open_tables(defer_checks=True)``) are verified
# by the same query. Anything but zero means the tables are invalid. Not in CHECKS, so
# :func:`evaluate` leaves them out of the output.
EPISODE_CHILD_MISSING = "episode_child_missing"
PLACEMENT_EPISODE_MISSING = "placement_episode_missing"


def _count(flag: ir.BooleanValue) -> ir.IntegerValue:
    # A comparison with a missing value is "not flagged", not "not counted".
    return ibis.cases((flag, 1), else_=0).sum().fill_null(0).cast("int64")


def counts_query(
    tables: Tables, data_through_day: int, period: Period, *, base: Base | None = None
) -> ir.Table:
    """A row per check: ``check``, ``flagged`` records and ``records`` checked.

    The episode checks read every episode; the report checks read the victim rows the report
    indicators of ``period`` read (see :func:`engine.report_window`).

    The counts, not the shares, come out of the engine, so the checks can ride along in the
    indicators' query (one plan, one round trip); :func:`shares` divides them. Built on the
    indicators' own inputs (``base``, from :func:`engine.base_tables`), so in that query the
    episodes joined to their children are shared rather than joined again.
    """
    base = base if base is not None else base_tables(tables)
    # Every episode with its child's date of birth (NULL when the child is missing).
    ec = episodes_with_child(base)
    dob = ec.dob.epoch_days()
    b21 = (ec.dob + ibis.interval(years=21)).epoch_days()
    last_day = ec.d.fill_null(data_through_day)
    # (source, flags, the records each flag is a share of: the source's rows unless named here)
    parts: list[tuple[ir.Table, dict[str, ir.BooleanValue], dict[str, ir.BooleanValue]]] = [
        (
            ec,
            {
                "dob_after_removal": dob > ec.r,
                "missing_dob": ec.dob.isnull(),
                "discharge_before_removal": ec.d < ec.r,
                "age_over_21": last_day > b21,
                "in_care_over_21_years": (last_day - ec.r) > DAYS_IN_21_YEARS,
                EPISODE_CHILD_MISSING: ~ec.known,
                "missing_discharge_reason": ec.d.notnull() & ec.reason.isnull(),
            },
            {"missing_discharge_reason": ec.d.notnull()},
        ),
    ]
    # The victim rows, already joined to their children for the indicators.
    v = victims_with_child(base, report_window(period))
    parts.append(
        (
            v,
            {
                "report_before_birth": v.report_day < v.dob,
                "report_child_unknown": ~v.known,
            },
            {},
        )
    )
    out: ir.Table | None = None
    for table, flags, records in parts:
        # One aggregate per source table (one pass over it), then a row per check.
        wide = table.aggregate(
            records=table.count().cast("int64"),
            **{name: _count(flag) for name, flag in flags.items()},
            **{f"{name}_records": _count(among) for name, among in records.items()},
        )
        for name in flags:
            row = wide.select(
                check=ibis.literal(name, type="string"),
                flagged=wide[name],
                records=wide[f"{name}_records"] if name in records else wide.records,
            )
            out = row if out is None else out.union(row)
    # One full outer join of the episodes and the placements finds both the episodes without
    # placement rows (a check) and the placements without an episode (a reference rule), without
    # first making the placements distinct: an unmatched row of either side appears once.
    p = base.placements
    # The episodes side is the episodes already joined to their children (one read of the file
    # for everything).
    left = ec.select(e_child=ec.child_id, e_removal=ec.removal_date)
    right = p.select(p_child=p.child_id, p_removal=p.removal_day)
    both = left.outer_join(
        right, [left.e_child == right.p_child, left.e_removal == right.p_removal]
    )
    wide = both.aggregate(
        unplaced=_count(both.p_child.isnull()), orphans=_count(both.e_child.isnull())
    ).cross_join(ec.aggregate(episodes=ec.count().cast("int64")))
    # Named, so its two uses below share one join.
    wide = wide.cross_join(p.aggregate(placements=p.count().cast("int64"))).alias(
        "_".join(["kinfolk_episode_placement_counts", *base.breakdowns])
    )
    assert out is not None
    return out.union(
        wide.select(
            check=ibis.literal("episode_without_placements", type="string"),
            flagged=wide.unplaced,
            records=wide.episodes,
        )
    ).union(
        wide.select(
            check=ibis.literal(PLACEMENT_EPISODE_MISSING, type="string"),
            flagged=wide.orphans,
            records=wide.placements,
        )
    )


def shares(rows: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """Each check's share of records (None when there are no records to check)."""
    return {
        str(row["check"]): (
            int(row["flagged"]) / int(row["records"]) if int(row["records"] or 0) > 0 else None
        )
        for row in rows
    }


def evaluate(row: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """Turn the query's single row into the output list, in CHECKS order."""
    out: list[dict[str, Any]] = []
    for check in CHECKS:
        value = row.get(check.name)
        share = 0.0 if value is None else round(float(value), 4)
        out.append(
            {
                "check": check.name,
                "description": check.description,
                "value": share,
                "threshold": check.threshold,
                "passed": share <= check.threshold,
                "affects": list(check.affects),
            }
        )
    return out
