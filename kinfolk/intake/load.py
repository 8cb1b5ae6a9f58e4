"""Fill a Kinfolk database from a simulator run (``kinfolk simulate run``): a living county.

A bulk path, not the per-request services: tens of thousands of rows must load in minutes.
It keeps the invariants the services keep (search keys, versions, history rows, closed
lifecycle with an event, findings as NCANDS levels) and writes audit rows marked as a
system load. Children come from the ``children`` table with their names from
``persons.csv`` (the first record of each true person); reports from ``reports``.
Episodes, placements and resource homes wait for the foster-care module.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from kinfolk.core import audit
from kinfolk.core.models import OrgUnit
from kinfolk.core.services import org_unit_create
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Allegation, Report, Reporter, ReportEvent, ReportPerson
from kinfolk.intake.policy import intake_policy
from kinfolk.people.models import Person
from kinfolk.people.search import keys_for

BATCH = 2000
SEX = {"M": "1", "F": "2"}


class AlreadyLoaded(Exception):
    pass


@dataclass
class LoadResult:
    org_units: int
    people: int
    reports: int
    allegations: int
    seconds: float


def _org_units(reports: list[dict[str, Any]]) -> dict[str, OrgUnit]:
    """State → circuit → county → office, from the codes the simulator wrote."""
    units: dict[str, OrgUnit] = {u.code: u for u in OrgUnit.objects.all()}
    offices = sorted({(r["circuit"], r["county"], r["office"]) for r in reports if r["office"]})
    state_code = "SIM-" + (offices[0][1][:2] if offices else "00")
    if state_code not in units:
        units[state_code] = org_unit_create(
            code=state_code, name="Simulated state", kind="state", parent=None
        )
    for circuit, county, office in offices:
        parents = [
            (circuit, "circuit", state_code),
            (county, "county", circuit),
            (office, "office", county),
        ]
        for code, kind, parent in parents:
            if code not in units:
                units[code] = org_unit_create(
                    code=code, name=f"Simulated {kind} {code}", kind=kind, parent=units[parent]
                )
    return units


def _names(directory: Path) -> dict[str, dict[str, str]]:
    truth: dict[str, str] = {}
    with (directory / "persons_truth.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            truth[row["record_id"]] = row["person_id"]
    names: dict[str, dict[str, str]] = {}
    with (directory / "persons.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            person_id = truth.get(row["record_id"])
            if person_id and person_id not in names:
                names[person_id] = row
    return names


@transaction.atomic
def load_simulation(directory: str | Path) -> LoadResult:
    started = time.monotonic()
    directory = Path(directory)
    tables = read_tables(directory)
    report_rows = tables["reports"].to_pylist()
    numbers = {r["report_id"][:20] for r in report_rows}
    if Report.objects.filter(number__in=list(numbers)[:1000]).exists():
        raise AlreadyLoaded(f"{directory}: these reports are already in the database")
    units = _org_units(report_rows)
    names = _names(directory)
    zone = intake_policy().zone

    office_of: dict[str, str] = {}
    for row in report_rows:
        office_of.setdefault(row["child_id"], row["office"])
    people: dict[str, Person] = {}
    for child in tables["children"].to_pylist():
        if child["child_id"] not in office_of:
            continue
        name = names.get(child["child_id"], {})
        first, last = name.get("first_name") or "Unknown", name.get("last_name") or "Unknown"
        keys = keys_for(first, last)
        people[child["child_id"]] = Person(
            org_unit=units[office_of[child["child_id"]]],
            first_name=first[:100],
            middle_name=(name.get("middle_name") or "")[:100],
            last_name=last[:100],
            date_of_birth=child["date_of_birth"],
            sex=str(child["sex"]),
            race_amiakn=bool(child["race_amiakn"]),
            race_asian=bool(child["race_asian"]),
            race_blkafram=bool(child["race_blkafram"]),
            race_hawaiipi=bool(child["race_hawaiipi"]),
            race_white=bool(child["race_white"]),
            race_unknown=bool(child["race_unknown"]),
            hispanic=str(child["hispanic"]),
            search_first=keys.first,
            search_last=keys.last,
            search_first_key=keys.first_key,
            search_last_key=keys.last_key,
        )
    bulk_create_with_history(
        list(people.values()), Person, batch_size=BATCH, default_change_reason="system load"
    )

    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report_rows:
        grouped[row["report_id"]].append(row)
    reports: list[Report] = []
    for number, rows in grouped.items():
        levels = {r["maltreatment_level"] for r in rows}
        received = datetime.combine(rows[0]["report_date"], clock_time(12), tzinfo=zone)
        reports.append(
            Report(
                org_unit=units[rows[0]["office"]],
                number=number[:20],
                status="closed",
                received_at=received,
                channel="phone",
                narrative="Loaded from a simulation.",
                track="family_assessment" if levels & {3, 4} else "investigation",
                priority="P3",
                rule="system_load",
                rule_why="Loaded from a simulation.",
            )
        )
    bulk_create_with_history(reports, Report, batch_size=BATCH, default_change_reason="system load")
    by_number = {r.number: r for r in reports}
    participants, allegations, events, reporters = [], [], [], []
    for number, rows in grouped.items():
        report = by_number[number[:20]]
        for child_id in dict.fromkeys(r["child_id"] for r in rows):
            participants.append(
                ReportPerson(
                    report=report, person=people[child_id], role=ReportPerson.Role.ALLEGED_VICTIM
                )
            )
        for r in rows:
            allegations.append(
                Allegation(
                    report=report,
                    child=people[r["child_id"]],
                    maltreatment_type=str(r["maltreatment_type"]),
                    incident_date=r["incident_date"],
                    finding=str(r["maltreatment_level"]),
                    perpetrator_relationship="parent",
                )
            )
        events.append(
            ReportEvent(
                report=report,
                move="load",
                from_status="draft",
                to_status="closed",
                note="system load",
                at=report.received_at,
            )
        )
        reporters.append(Reporter(report=report, source="99"))
    ReportPerson.objects.bulk_create(participants, batch_size=BATCH)
    Allegation.objects.bulk_create(allegations, batch_size=BATCH)
    ReportEvent.objects.bulk_create(events, batch_size=BATCH)
    Reporter.objects.bulk_create(reporters, batch_size=BATCH)
    for record_type, count in (("person", len(people)), ("report", len(reports))):
        audit.record(
            user=None,
            action="create",
            record_type=record_type,
            detail={"system_load": True, "count": count, "source": directory.name},
        )
    return LoadResult(
        len(units),
        len(people),
        len(reports),
        len(allegations),
        round(time.monotonic() - started, 1),
    )
