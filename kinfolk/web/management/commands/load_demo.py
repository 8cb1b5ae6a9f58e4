"""Load a small synthetic county (only when the database is empty) and print the demo logins.

Everything is invented: names are drawn from short common-name lists, dates at random.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from kinfolk.core import services as core
from kinfolk.core.models import Assignment, OrgUnit, User

DEMO_PASSWORD = "kinfolk-demo-2026"  # noqa: S105 - a published demo password, synthetic data only

FIRST_F = [
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Elizabeth",
    "Sofia",
    "Avery",
    "Ella",
    "Madison",
    "Scarlett",
    "Aaliyah",
    "Maya",
    "Keisha",
    "Destiny",
    "Jasmine",
    "Maria",
    "Guadalupe",
    "Brianna",
]
FIRST_M = [
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Mason",
    "Michael",
    "Ethan",
    "Daniel",
    "Jacob",
    "Logan",
    "Jackson",
    "Jaylen",
    "Robert",
    "DeShawn",
    "Jose",
    "Luis",
    "Tyrone",
    "Cody",
    "Austin",
    "Dylan",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Carter",
    "Mitchell",
    "Perez",
    "Roberts",
    "Turner",
]
STREETS = [
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Pine Rd",
    "Elm St",
    "Walnut Dr",
    "Hickory Ct",
    "Main St",
    "Church St",
    "Mill Rd",
    "Lakeview Dr",
    "Sunset Blvd",
]

# (username, display name, role, org unit code, supervisor username)
USERS = [
    ("hotline", "Hana Hotline", "hotline_worker", "DS", None),
    ("hotline.sup", "Hector Hotline-Supervisor", "hotline_supervisor", "DS", None),
    ("investigator", "Ines Investigator", "investigator", "ADM-N", "supervisor"),
    ("investigator.cedar", "Ivan Investigator (Cedar)", "investigator", "CED-1", None),
    ("caseworker", "Carla Caseworker", "case_worker", "ADM-S", "supervisor"),
    ("fostercare", "Felix Foster-Care", "foster_care_worker", "ADM", None),
    ("resource", "Rita Resource-Family", "resource_family_worker", "C1", None),
    ("supervisor", "Sam Supervisor", "supervisor", "ADM", None),
    ("manager", "Mona Manager", "office_manager", "BAK-1", None),
    ("partner", "Pat Partner (Family Center)", "partner_staff", None, None),
    ("coalition", "Cora Coalition", "coalition_coordinator", "DS", None),
    ("analyst", "Ana Analyst", "analyst", "DS", None),
    ("admin", "Adam Administrator", "administrator", "DS", None),
    ("auditor", "Audrey Auditor", "auditor", "DS", None),
]


def build_org_tree() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}

    def add(code: str, name: str, kind: str, parent: str | None) -> None:
        units[code] = core.org_unit_create(
            code=code, name=name, kind=kind, parent=units[parent] if parent else None
        )

    add("DS", "Demo State", "state", None)
    add("R1", "Central Region", "region", "DS")
    add("C1", "First Judicial Circuit", "circuit", "R1")
    add("C2", "Second Judicial Circuit", "circuit", "R1")
    add("ADM", "Adams County", "county", "C1")
    add("BAK", "Baker County", "county", "C1")
    add("CED", "Cedar County", "county", "C2")
    add("ADM-N", "Adams North Office", "office", "ADM")
    add("ADM-S", "Adams South Office", "office", "ADM")
    add("BAK-1", "Baker County Office", "office", "BAK")
    add("CED-1", "Cedar County Office", "office", "CED")
    return units


def _dob(rng: random.Random, today: date, min_age: int, max_age: int) -> date:
    return today - timedelta(days=rng.randint(min_age * 365 + 1, max_age * 365 + 300))


def build_people(
    rng: random.Random, units: dict[str, OrgUnit], loader: User, target: int = 200
) -> int:
    from kinfolk.people import services as people

    today = date(2026, 11, 1)
    offices = [units[c] for c in ("ADM-N", "ADM-S", "BAK-1", "CED-1")]
    cities = {
        "ADM-N": "Adamsville",
        "ADM-S": "Southport",
        "BAK-1": "Bakersburg",
        "CED-1": "Cedar Falls",
    }
    count = 0
    household_no = 0
    while count < target:
        household_no += 1
        office = rng.choice(offices)
        last = rng.choice(LAST)
        address = {
            "street": f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
            "city": cities[office.code],
            "state": "DS",
            "postcode": f"6{rng.randint(3000, 5999)}",
            "county": office.parent.name if office.parent else "",
            "valid_from": today - timedelta(days=rng.randint(30, 2000)),
        }
        adults = []
        for sex, names in (("2", FIRST_F), ("1", FIRST_M)):
            if sex == "1" and rng.random() < 0.35:
                continue  # many households have one parent
            values: dict[str, Any] = {
                "first_name": rng.choice(names),
                "last_name": last if rng.random() < 0.8 else rng.choice(LAST),
                "sex": sex,
                "date_of_birth": _dob(rng, today, 19, 45),
                rng.choice(["race_white", "race_blkafram", "race_asian", "race_amiakn"]): True,
                "hispanic": rng.choice(["1", "2", "2", "2", "3"]),
            }
            digits = f"{rng.randint(100, 665)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}"
            ssn = [{"kind": "ssn", "value": digits}] if rng.random() < 0.8 else []
            adults.append(
                people.person_create(
                    user=loader,
                    org_unit=office,
                    values=values,
                    identifiers=ssn,
                    addresses=[address],
                    phones=[
                        {
                            "number": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                            "kind": "mobile",
                        }
                    ],
                )
            )
        children = []
        taken = {a.first_name for a in adults}
        for _ in range(rng.randint(1, 4)):
            sex = rng.choice(["1", "2"])
            # Siblings (and their parents) do not share a first name.
            first = rng.choice([n for n in (FIRST_M if sex == "1" else FIRST_F) if n not in taken])
            taken.add(first)
            values = {
                "first_name": first,
                "last_name": last,
                "middle_name": rng.choice(["", "", "Lee", "Marie", "James", "Ann"]),
                "sex": sex,
                "date_of_birth": _dob(rng, today, 0, 16),
                "race_white": adults[0].race_white,
                "race_blkafram": adults[0].race_blkafram,
                "race_asian": adults[0].race_asian,
                "race_amiakn": adults[0].race_amiakn,
                "hispanic": adults[0].hispanic,
            }
            children.append(
                people.person_create(
                    user=loader, org_unit=office, values=values, addresses=[address]
                )
            )
        for adult in adults:
            for child in children:
                people.relationship_add(
                    user=loader, person_id=adult.pk, related_id=child.pk, kind="parent"
                )
        for i, a in enumerate(children):
            for b in children[i + 1 :]:
                people.relationship_add(
                    user=loader, person_id=a.pk, related_id=b.pk, kind="sibling"
                )
        if rng.random() < 0.15 and children:
            people.person_name_add(
                user=loader,
                person_id=children[0].pk,
                data={
                    "kind": "nickname",
                    "first_name": children[0].first_name[:3],
                    "last_name": last,
                },
            )
        people.household_create(
            user=loader,
            org_unit=office,
            label=f"{last} household #{household_no}",
            members=[(p, "adult") for p in adults] + [(c, "child") for c in children],
        )
        count += len(adults) + len(children)
    return count


def build_duplicates(rng: random.Random, units: dict[str, OrgUnit], loader: User, n: int) -> int:
    """A few children entered twice, as happens when a call from another county misspells a
    name and nobody searched: the data steward's queue has real work. Returns how many."""
    from kinfolk.people import services as people
    from kinfolk.people.models import Person

    children = list(
        Person.objects.filter(date_of_birth__year__gte=2010).order_by("created_at")[: n * 10]
    )
    made = 0
    for child in rng.sample(children, min(n, len(children))):
        first = child.first_name
        # One slip of the keyboard: two neighbouring letters swapped.
        i = rng.randrange(1, len(first) - 1) if len(first) > 2 else 0
        typo = first[:i] + first[i + 1] + first[i] + first[i + 2 :] if len(first) > 2 else first
        other = next(u for c, u in units.items() if u.kind == "office" and u != child.org_unit)
        people.person_create(
            user=loader,
            org_unit=other if rng.random() < 0.5 else child.org_unit,
            values={
                "first_name": typo,
                "last_name": child.last_name,
                "sex": child.sex,
                "date_of_birth": child.date_of_birth,
            },
        )
        made += 1
    return made


NARRATIVES = [
    "Neighbour reports the children are often left alone in the evening.",
    "School nurse saw bruises on the child's upper arm; the explanation did not fit.",
    "Child said at day care that there is no food at home.",
    "Police responded to a domestic dispute; children were present.",
    "Clinic reports a missed follow-up for a child's serious asthma.",
]


def build_reports(rng: random.Random, users: dict[str, User]) -> int:
    """A living hotline: reports in every state of the lifecycle, some past their deadline."""
    from django.utils import timezone

    from kinfolk.intake import services as intake
    from kinfolk.intake.models import ReportPerson
    from kinfolk.people.models import Person

    now = timezone.now()
    stages = [
        "submitted",
        "screened",
        "screened",
        "approved",
        "approved",
        "assigned",
        "assigned",
        "assigned",
        "responded",
        "screened_out",
    ]
    count = 0
    households: dict[tuple[object, str], list[Person]] = {}
    for child in Person.objects.filter(date_of_birth__year__gte=2010).order_by("last_name", "pk"):
        households.setdefault((child.org_unit_id, child.last_name), []).append(child)
    families = [kids for kids in households.values() if kids][: len(stages) + 2]
    for stage, kids in zip(stages, families, strict=False):
        office = kids[0].org_unit
        received = now - timedelta(hours=rng.randint(2, 60))
        entries = [
            intake.PersonEntry(role=ReportPerson.Role.ALLEGED_VICTIM, person_id=k.pk, ref=f"c{i}")
            for i, k in enumerate(kids[:3])
        ]
        report = intake.report_file(
            user=users["hotline"],
            org_unit=office,
            received_at=received,
            channel="phone",
            narrative=rng.choice(NARRATIVES),
            reporter={"source": rng.choice(["2", "4", "5", "11"])},
            people=entries,
            allegations=[
                {
                    "child": e.ref,
                    "maltreatment_type": rng.choice(["1", "2", "2", "3"]),
                    "perpetrator_relationship": "parent",
                }
                for e in entries
            ],
        )
        count += 1
        if stage == "submitted":
            continue
        report = intake.report_screen(
            user=users["hotline"],
            report_id=report.pk,
            screen_in=stage != "screened_out",
            narrative="Meets the threshold for a response."
            if stage != "screened_out"
            else "No maltreatment alleged.",
            reason="no_maltreatment",
            safety_threat=rng.random() < 0.3,
        )
        if stage == "screened":
            continue
        report = intake.report_approve(user=users["hotline.sup"], report_id=report.pk)
        # Only investigators / family-assessment workers take reports; the demo's covers
        # Adams North (the other offices' approved reports wait in the supervisor's queue).
        if stage in {"approved", "screened_out"} or office.code != "ADM-N":
            continue
        worker = users["investigator"]
        report = intake.report_assign(
            user=users["supervisor"],
            report_id=report.pk,
            assignee=worker,
            expected_version=report.version,
        )
        if stage == "responded":
            for entry in entries:
                intake.report_record_contact(
                    user=worker,
                    report_id=report.pk,
                    child_id=entry.person_id,
                    contact_at=received + timedelta(hours=1),
                    location="Home visit",
                )
    return count


def build_care(users: dict[str, User]) -> int:
    """Two resource homes in Adams; a child of Adams North in care (moved once), one back home,
    and an in-home case in Adams South, so the hotline's prior history shows open cases and a
    current placement. Returns the number of children removed."""
    from django.utils import timezone

    from kinfolk.cases import services as cases
    from kinfolk.people.models import Person
    from kinfolk.placements import services as care

    today = timezone.localdate()
    adams = OrgUnit.objects.get(code="ADM")
    foster = care.resource_home_create(
        user=users["resource"], org_unit=adams, name="Maple Street foster home",
        home_type="foster_family", capacity=3, licensed_from=today - timedelta(days=900),
    )  # fmt: skip
    kin = care.resource_home_create(
        user=users["resource"], org_unit=adams, name="Grandmother's home (kinship)",
        home_type="kinship", capacity=2, licensed_from=today - timedelta(days=60),
    )  # fmt: skip
    children = list(
        Person.objects.filter(org_unit__code="ADM-N", date_of_birth__year__gte=2012).order_by(
            "last_name", "pk"
        )[:2]
    )
    worker = users["fostercare"]
    for i, child in enumerate(children):
        episode = care.child_remove(
            user=worker, child_id=child.pk, org_unit=child.org_unit,
            removal_date=today - timedelta(days=90 + 110 * i), removal_manner="2",
            removal_reasons=["neglect"], setting="3", resource_home_id=foster.pk,
        )  # fmt: skip
        if i == 0:
            care.placement_change(
                user=worker, episode_id=episode.pk, expected_version=episode.version,
                start_date=today - timedelta(days=30), setting="2", resource_home_id=kin.pk,
            )  # fmt: skip
        else:
            care.child_discharge(
                user=worker, episode_id=episode.pk, expected_version=episode.version,
                discharge_date=today - timedelta(days=20), discharge_reason="1",
            )  # fmt: skip
    family = Person.objects.filter(org_unit__code="ADM-S").order_by("last_name", "pk").first()
    if family is not None:
        cases.case_open(
            user=users["caseworker"], org_unit=family.org_unit, kind="in_home",
            opened_on=today - timedelta(days=45), members=[(family.pk, "child")],
            primary_worker=users["caseworker"],
        )  # fmt: skip
    return len(children)


class Command(BaseCommand):
    help = "Load the synthetic demo county if the database is empty; print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--people", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if OrgUnit.objects.exists():
            self.stdout.write("Database already has data: demo not loaded again.")
        else:
            with transaction.atomic():
                core.roles_sync_from_policy()
                units = build_org_tree()
                users: dict[str, User] = {}
                for username, display, role, unit, _ in USERS:
                    users[username] = core.user_create(
                        by=None,
                        username=username,
                        password=DEMO_PASSWORD,
                        display_name=display,
                        roles=[(role, units[unit] if unit else None)],
                        check_password=False,
                    )
                for username, _, _, _, supervisor in USERS:
                    if supervisor:
                        core.supervision_set(
                            supervisor=users[supervisor], supervisee=users[username]
                        )
                from kinfolk.partners.models import PartnerMembership, PartnerOrganization

                org = PartnerOrganization.objects.create(name="Adams Family Resource Center")
                PartnerMembership.objects.create(user=users["partner"], organization=org)
                n = build_people(
                    random.Random(options["seed"]), units, users["hotline.sup"], options["people"]
                )
                # A few assignments so supervisors and workers have something on their pages.
                from kinfolk.people.models import Person

                for person in Person.objects.filter(org_unit__code="CED-1")[:3]:
                    Assignment.objects.create(
                        user=users["investigator"], record_type="person", record_id=person.pk
                    )
                reports = build_reports(random.Random(options["seed"] + 1), users)
                in_care = build_care(users)
                build_duplicates(random.Random(options["seed"] + 2), units, users["hotline.sup"], 3)
                from kinfolk.people.services import duplicates_find

                queued = duplicates_find()
            self.stdout.write(f"Possible duplicates queued for the data steward: {queued}.")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo county loaded: {len(USERS)} users, {n} people, {reports} reports, "
                    f"{in_care} children removed."
                )
            )
        core.planner_statistics_refresh()
        call_command("rebuild_match_index", stdout=self.stdout)
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for username, _, role, unit, _ in USERS:
            self.stdout.write(f"  {username:<20} {role:<24} {unit or '(partner organisation)'}")
