"""Kinfolk's own data as the federal-shaped tables (see FEDERAL_TABLES.md).

Screened-in reports become NCANDS-like ``reports`` rows (report × child × maltreatment),
their children the ``children`` rows. Episodes and placements are added by
``kinfolk.placements.extract`` (intake cannot import the apps above it), which also adds the
children in care; here those two tables are empty.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from kinfolk.core.models import OrgUnit
from kinfolk.federal.tables import ARROW_SCHEMAS, empty_tables, validate_tables
from kinfolk.intake.models import Allegation, Finding
from kinfolk.intake.policy import intake_policy
from kinfolk.people.models import Person

UNKNOWN_LEVEL = int(Finding.UNKNOWN)


def geography() -> dict[Any, dict[str, str | None]]:
    """Each org unit's county, office and circuit codes (None where it has no such level)."""
    units = {u.pk: u for u in OrgUnit.objects.all()}

    def up(unit: OrgUnit | None, kind: str) -> str | None:
        while unit is not None and unit.kind != kind:
            unit = units.get(unit.parent_id) if unit.parent_id else None
        return unit.code if unit else None

    return {pk: {k: up(u, k) for k in ("county", "office", "circuit")} for pk, u in units.items()}


def child_row(person: Person) -> dict[str, Any]:
    """A person as a ``children`` row (AFCARS/NCANDS demographics)."""
    return {
        "child_id": str(person.pk),
        "date_of_birth": person.date_of_birth,
        "sex": int(person.sex),
        "race_amiakn": int(person.race_amiakn),
        "race_asian": int(person.race_asian),
        "race_blkafram": int(person.race_blkafram),
        "race_hawaiipi": int(person.race_hawaiipi),
        "race_white": int(person.race_white),
        "race_unknown": int(person.race_unknown or person.race_declined),
        "hispanic": int(person.hispanic),
    }


def federal_tables() -> dict[str, pa.Table]:
    """Every screened-in report's allegations, and the children they name, as Arrow tables."""
    geo = geography()
    zone = intake_policy().zone  # a report's date is the agency's calendar date
    allegations = (
        Allegation.objects.exclude(report__track="")
        .select_related("report", "child")
        .order_by("report__received_at", "report__number", "child_id", "maltreatment_type")
    )
    reports: dict[str, list[Any]] = {name: [] for name in ARROW_SCHEMAS["reports"].names}
    children: dict[str, Any] = {}
    for a in allegations.iterator(chunk_size=2000):
        report, child = a.report, a.child
        where = geo[report.org_unit_id]
        row = {
            "report_id": report.number,
            "child_id": str(child.pk),
            "report_date": report.received_at.astimezone(zone).date(),
            "incident_date": a.incident_date,
            "maltreatment_type": int(a.maltreatment_type),
            "maltreatment_level": int(a.finding) if a.finding else UNKNOWN_LEVEL,
            "county": where["county"],
            "office": where["office"],
            "circuit": where["circuit"],
        }
        for name in reports:
            reports[name].append(row.get(name))
        children.setdefault(str(child.pk), child)
    child_rows: dict[str, list[Any]] = {name: [] for name in ARROW_SCHEMAS["children"].names}
    for person in children.values():
        row = child_row(person)
        for name in child_rows:
            child_rows[name].append(row.get(name))
    tables = empty_tables()
    tables["reports"] = pa.Table.from_pydict(reports, schema=ARROW_SCHEMAS["reports"])
    tables["children"] = pa.Table.from_pydict(child_rows, schema=ARROW_SCHEMAS["children"])
    validate_tables(tables)
    return tables
