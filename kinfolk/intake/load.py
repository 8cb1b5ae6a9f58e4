"""Fill a Kinfolk database from a simulator run (``kinfolk simulate run``): a living county.

A bulk path, not the per-request services: tens of thousands of rows must load in minutes.
It keeps the invariants the services keep (search keys, versions, history rows, closed
lifecycle with an event, findings as NCANDS levels, no self-relationship, one relationship of
a kind per pair) and writes audit rows marked as a system load.

* Reported children come from the ``children`` table; their caregivers (mothers, fathers) and
  the relative caregivers of kin homes from ``persons_truth.csv``. Every person is one true
  person of the simulation; the name, date of birth and sex are each the value most of that
  person's records in ``persons.csv`` agree on (the noise of one record is not copied).
* Households from ``households.csv``, their members (children and caregivers) from
  ``persons_links.csv``; relationships from ``relationships.csv``; caregivers named on a
  report become its caregiver participants.
* Reports from ``reports``.

Episodes, placements, resource homes and their cases are loaded after this by
``kinfolk.placements.load`` (intake cannot import the apps above it); ``LoadResult`` hands it
the people and reports loaded here, by their simulator ids.
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from kinfolk.core import audit, crypto
from kinfolk.core.models import OrgUnit
from kinfolk.core.services import org_unit_create
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Allegation, Report, Reporter, ReportEvent, ReportPerson
from kinfolk.intake.policy import intake_policy
from kinfolk.people.models import (
    Address,
    Household,
    HouseholdMember,
    Identifier,
    Person,
    Phone,
    Relationship,
)
from kinfolk.people.search import keys_for

BATCH = 2000
SEX = {"M": "1", "F": "2"}
# Household member roles by the true person's id prefix (mother, father, child).
MEMBER_ROLE = {"M": "head", "D": "partner", "C": "child"}


class AlreadyLoaded(Exception):
    pass


@dataclass
class LoadResult:
    org_units: int
    people: int
    reports: int
    allegations: int
    seconds: float
    caregivers: int = 0
    households: int = 0
    relationships: int = 0
    # What was loaded, by the simulator's ids, for the loaders of the apps above intake.
    people_by_id: dict[str, Person] = field(default_factory=dict, repr=False)
    reports_by_number: dict[str, Report] = field(default_factory=dict, repr=False)


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


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []  # a run from before households and relationships were written
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _mode(values: list[str]) -> str:
    """The value most records agree on (the earliest of a tie); "" when all are blank."""
    counts = Counter(v for v in values if v)
    if not counts:
        return ""
    best = max(counts.values())
    return next(v for v in values if v and counts[v] == best)


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _identities(directory: Path, truth: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per true person, each field as most of their records give it."""
    fields = (
        *("first_name", "middle_name", "last_name", "date_of_birth", "sex"),
        *("ssn", "street", "city", "state", "postcode", "phone"),
    )
    seen: dict[str, dict[str, list[str]]] = {}
    with (directory / "persons.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            person_id = truth.get(row["record_id"])
            if person_id:
                values = seen.setdefault(person_id, {k: [] for k in fields})
                for k in fields:
                    values[k].append(row[k])
    return {pid: {k: _mode(v) for k, v in values.items()} for pid, values in seen.items()}


def _person(unit: OrgUnit, name: dict[str, str], **values: Any) -> Person:
    first, last = name.get("first_name") or "Unknown", name.get("last_name") or "Unknown"
    keys = keys_for(first, last)
    return Person(
        org_unit=unit,
        first_name=first[:100],
        middle_name=(name.get("middle_name") or "")[:100],
        last_name=last[:100],
        search_first=keys.first,
        search_last=keys.last,
        search_first_key=keys.first_key,
        search_last_key=keys.last_key,
        **values,
    )


def _contact_details(people: dict[str, Person], names: dict[str, dict[str, str]]) -> int:
    """Each person's address, phone and SSN as most of their records give them.

    The SSN is encrypted and digested exactly as ``people.services`` does for a worker's
    entry, so search by SSN and the masked display work on loaded people too.
    """
    addresses: list[Address] = []
    phones: list[Phone] = []
    identifiers: list[Identifier] = []
    for person_id, person in people.items():
        known = names.get(person_id, {})
        if known.get("street") and known.get("city") and len(known.get("state", "")) == 2:
            addresses.append(
                Address(
                    person=person,
                    street=known["street"][:200],
                    city=known["city"][:100],
                    state=known["state"],
                    postcode=known.get("postcode", "")[:10],
                )
            )
        if known.get("phone"):
            phones.append(Phone(person=person, number=known["phone"][:32]))
        ssn = known.get("ssn", "")
        if len(ssn) == 9 and ssn.isdigit():
            identifiers.append(
                Identifier(
                    person=person,
                    kind=Identifier.Kind.SSN,
                    value_encrypted=crypto.encrypt(ssn),
                    last4=ssn[-4:],
                    digest=crypto.digest(f"{Identifier.Kind.SSN}:{ssn}"),
                )
            )
    for rows, model in ((addresses, Address), (phones, Phone), (identifiers, Identifier)):
        bulk_create_with_history(rows, model, batch_size=BATCH, default_change_reason="system load")
    return len(addresses) + len(phones) + len(identifiers)


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
    truth = {r["record_id"]: r["person_id"] for r in _csv(directory / "persons_truth.csv")}
    names = _identities(directory, truth)
    links = _csv(directory / "persons_links.csv")
    household_rows = _csv(directory / "households.csv")
    zone = intake_policy().zone

    office_of: dict[str, str] = {}
    for row in report_rows:
        office_of.setdefault(row["child_id"], row["office"])
    people: dict[str, Person] = {}
    for child in tables["children"].to_pylist():
        if child["child_id"] not in office_of:
            continue
        people[child["child_id"]] = _person(
            units[office_of[child["child_id"]]],
            names.get(child["child_id"], {}),
            date_of_birth=child["date_of_birth"],
            sex=str(child["sex"]),
            race_amiakn=bool(child["race_amiakn"]),
            race_asian=bool(child["race_asian"]),
            race_blkafram=bool(child["race_blkafram"]),
            race_hawaiipi=bool(child["race_hawaiipi"]),
            race_white=bool(child["race_white"]),
            race_unknown=bool(child["race_unknown"]),
            hispanic=str(child["hispanic"]),
        )
    # Caregivers and relatives, in the office of the family they belong to.
    office_of_household = {h["household_id"]: h["office"] for h in household_rows}
    household_of: dict[str, str] = {}
    for link in links:
        household_of.setdefault(truth[link["record_id"]], link["household_id"])
    caregivers = 0
    for person_id in dict.fromkeys(truth.values()):
        office = office_of_household.get(household_of.get(person_id, ""))
        if person_id.startswith("C") or office not in units:
            continue
        name = names.get(person_id, {})
        people[person_id] = _person(
            units[office],
            name,
            date_of_birth=_iso_date(name.get("date_of_birth", "")),
            sex=SEX.get(name.get("sex", ""), "9"),
        )
        caregivers += 1
    bulk_create_with_history(
        list(people.values()), Person, batch_size=BATCH, default_change_reason="system load"
    )
    contacts = _contact_details(people, names)

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
    # Caregivers named on a report take part in it as caregivers.
    named = {
        (link["report_id"], truth[link["record_id"]])
        for link in links
        if link["role"] == "caregiver" and link["report_id"]
    }
    for report_id, person_id in sorted(named):
        named_on = by_number.get(report_id[:20])
        if named_on is not None and person_id in people:
            participants.append(
                ReportPerson(report=named_on, person=people[person_id], role="caregiver")
            )
    ReportPerson.objects.bulk_create(participants, batch_size=BATCH)
    Allegation.objects.bulk_create(allegations, batch_size=BATCH)
    ReportEvent.objects.bulk_create(events, batch_size=BATCH)
    Reporter.objects.bulk_create(reporters, batch_size=BATCH)
    households = _households(household_rows, links, truth, people, units)
    relationships = _relationships(directory, people)
    for action, record_type, fields, count in (
        ("create", "person", [], len(people)),
        ("update", "person", ["addresses", "phones", "identifiers"], contacts),
        ("create", "household", [], households),
        ("update", "person", ["relationships"], relationships),
        ("create", "report", [], len(reports)),
    ):
        audit.record(
            user=None,
            action=action,
            record_type=record_type,
            fields=fields,
            detail={"system_load": True, "count": count, "source": directory.name},
        )
    return LoadResult(
        len(units),
        len(people) - caregivers,
        len(reports),
        len(allegations),
        round(time.monotonic() - started, 1),
        caregivers=caregivers,
        households=households,
        relationships=relationships,
        people_by_id=people,
        reports_by_number=by_number,
    )


def _households(
    rows: list[dict[str, str]],
    links: list[dict[str, str]],
    truth: dict[str, str],
    people: dict[str, Person],
    units: dict[str, OrgUnit],
) -> int:
    """Each family with a loaded member, and its children and caregivers as members."""
    members: dict[str, dict[str, None]] = defaultdict(dict)
    for link in links:
        person_id = truth[link["record_id"]]
        if link["role"] != "kin_caregiver" and person_id in people:
            members[link["household_id"]][person_id] = None
    households: list[Household] = []
    rows_of: list[HouseholdMember] = []
    for row in rows:
        if not members.get(row["household_id"]) or row["office"] not in units:
            continue
        household = Household(
            org_unit=units[row["office"]], label=f"Simulated household {row['household_id']}"
        )
        households.append(household)
        for person_id in members[row["household_id"]]:
            rows_of.append(
                HouseholdMember(
                    household=household, person=people[person_id], role=MEMBER_ROLE[person_id[0]]
                )
            )
    bulk_create_with_history(
        households, Household, batch_size=BATCH, default_change_reason="system load"
    )
    bulk_create_with_history(
        rows_of, HouseholdMember, batch_size=BATCH, default_change_reason="system load"
    )
    return len(households)


def _relationships(directory: Path, people: dict[str, Person]) -> int:
    """Relationships between loaded people; a pair is recorded once per kind, never to self."""
    seen: set[tuple[str, str, str]] = set()
    rows: list[Relationship] = []
    for row in _csv(directory / "relationships.csv"):
        a, b, kind = row["person_id"], row["related_person_id"], row["kind"]
        if a == b or a not in people or b not in people or (a, b, kind) in seen:
            continue
        seen.add((a, b, kind))
        rows.append(Relationship(person=people[a], related=people[b], kind=kind))
    bulk_create_with_history(
        rows, Relationship, batch_size=BATCH, default_change_reason="system load"
    )
    return len(rows)
