"""Data-quality checks, in the spirit of the data dictionary's AFCARS and NCANDS checks.

Each check is a share of records (0.0–1.0) computed in the engine, with a threshold; an indicator
whose data fails a check it depends on says so in its ``data_quality_failed`` list. See
DEFINITIONS.md for the source of each check and why the thresholds are what they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from kinfolk.outcomes.engine import Tables, as_table

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
        "victim report rows dated before the child's date of birth",
        0.05,
        REPORTS,
    ),
    Check(
        "report_child_unknown",
        "report rows whose child_id is not in the children table",
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


def _share(table: ir.Table, flag: ir.BooleanValue) -> ir.FloatingValue:
    # Share of all rows: a comparison with a missing value is "not flagged", not "not counted".
    flagged = ibis.cases((flag, 1), else_=0).sum().cast("float64")
    rows = table.count()
    # Spark's ANSI mode refuses a division by zero; an empty table simply has no share.
    return ibis.cases((rows > 0, flagged / rows.cast("float64")), else_=ibis.null("float64"))


def quality_query(tables: Tables, data_through_day: int) -> ir.Table:
    """One row with a column per check (NULL when there are no records to check)."""
    children = as_table(tables["children"])
    episodes = as_table(tables["episodes"])
    placements = as_table(tables["placements"])
    reports = as_table(tables["reports"])
    # Day numbers and the 21st birthday are computed after the joins, on the joined rows only.
    c = children.select(cid=children.child_id, born=children.date_of_birth)
    e = episodes.select(
        child_id=episodes.child_id,
        r=episodes.removal_date.epoch_days(),
        d=episodes.discharge_date.epoch_days(),
        reason=episodes.discharge_reason,
    )
    ec = e.left_join(c, e.child_id == c.cid).select(
        e.r,
        e.d,
        dob=c.born.epoch_days(),
        b21=(c.born + ibis.interval(years=21)).epoch_days(),
    )
    last_day = ec.d.fill_null(data_through_day)
    episode_checks = ec.aggregate(
        dob_after_removal=_share(ec, ec.dob > ec.r),
        missing_dob=_share(ec, ec.dob.isnull()),
        discharge_before_removal=_share(ec, ec.d < ec.r),
        age_over_21=_share(ec, last_day > ec.b21),
        in_care_over_21_years=_share(ec, (last_day - ec.r) > DAYS_IN_21_YEARS),
    )
    discharged = e.filter(e.d.notnull())
    reason_check = discharged.aggregate(
        missing_discharge_reason=_share(discharged, discharged.reason.isnull())
    )
    r = reports.select(
        rid=reports.child_id,
        report_date=reports.report_date,
        victim=reports.maltreatment_level.isin((1, 2)),
    )
    rc = r.left_join(c, r.rid == c.cid)
    report_checks = rc.aggregate(
        report_before_birth=_share(rc, rc.victim & (rc.report_date < rc.born)),
        report_child_unknown=_share(rc, rc.cid.isnull()),
    )
    placed = placements.select(
        pc_child=placements.child_id, pc_r=placements.removal_date
    ).distinct()
    ep_pl = episodes.left_join(
        placed,
        [episodes.child_id == placed.pc_child, episodes.removal_date == placed.pc_r],
    )
    placement_check = ep_pl.aggregate(
        episode_without_placements=_share(ep_pl, ep_pl.pc_child.isnull())
    )
    return (
        episode_checks.cross_join(reason_check)
        .cross_join(report_checks)
        .cross_join(placement_check)
    )


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
