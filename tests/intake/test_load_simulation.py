"""The simulator's output loaded into the database keeps every invariant the services keep."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kinfolk.core import audit
from kinfolk.core.models import AuditEvent
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Allegation, Finding, Report, ReportPerson
from kinfolk.people.models import (
    Household,
    HouseholdMember,
    Person,
    Relationship,
    RelationshipKind,
)


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kinfolk.simulate.output import RunConfig, run

    out = tmp_path_factory.mktemp("sim") / "run"
    run(RunConfig(scale="county", years=1, seed=11, output=out, fmt="csv", children=3000))
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _load(simulation: Path) -> str:
    out = StringIO()
    call_command("load_simulation", str(simulation), stdout=out)
    return out.getvalue()


def test_a_simulation_loads_with_every_invariant(db, simulation, tmp_path):
    _load(simulation)
    source = read_tables(simulation)
    children = source["children"].num_rows
    assert Report.objects.count() == len(set(source["reports"].column("report_id").to_pylist()))
    assert Allegation.objects.count() == source["reports"].num_rows
    # every report names its children; every person has search keys and a history row
    assert not Report.objects.filter(participants__isnull=True).exists()
    assert not Person.objects.filter(search_last="").exists()
    assert Person.history.count() == Person.objects.count()
    assert set(Allegation.objects.values_list("finding", flat=True)) <= set(Finding.values)
    victims = ReportPerson.objects.filter(role="alleged_victim")
    assert victims.values("person").distinct().count() == children
    assert audit.verify().ok


def test_caregivers_and_relatives_are_loaded_as_people_named_on_their_reports(db, simulation):
    _load(simulation)
    truth = _rows(simulation / "persons_truth.csv")
    adults = {r["person_id"] for r in truth if not r["person_id"].startswith("C")}
    children = read_tables(simulation)["children"].num_rows
    assert adults
    assert Person.objects.count() == children + len(adults)
    caregivers = ReportPerson.objects.filter(role="caregiver")
    assert caregivers.exists()
    assert not caregivers.filter(person__report_roles__role="alleged_victim").exists()


def test_households_hold_the_children_and_caregivers_of_each_family(db, simulation):
    _load(simulation)
    source = _rows(simulation / "households.csv")
    assert Household.objects.count() == len(source)
    assert not Household.objects.filter(members__isnull=True).exists()
    assert Household.history.count() == Household.objects.count()
    assert HouseholdMember.history.count() == HouseholdMember.objects.count()
    roles = set(HouseholdMember.objects.values_list("role", flat=True))
    assert roles == {"head", "partner", "child"}
    # nobody is listed twice in a household; every household has its mother as head
    pairs = list(HouseholdMember.objects.values_list("household", "person"))
    assert len(set(pairs)) == len(pairs)
    assert HouseholdMember.objects.filter(role="head").count() == len(source)


def test_relationships_are_loaded_and_siblings_share_a_household(db, simulation):
    _load(simulation)
    source = _rows(simulation / "relationships.csv")
    assert Relationship.objects.count() == len(source)
    assert Relationship.history.count() == Relationship.objects.count()
    kinds = set(Relationship.objects.values_list("kind", flat=True))
    assert kinds <= set(RelationshipKind.values)
    assert {"parent", "sibling", "partner"} <= kinds
    household_of = dict(HouseholdMember.objects.values_list("person", "household"))
    siblings = Relationship.objects.filter(kind="sibling", person__memberships__role="child")
    assert siblings.exists()
    for a, b in siblings.values_list("person", "related"):
        assert household_of[a] == household_of[b]


def test_the_load_writes_audit_rows_marked_as_a_system_load(db, simulation):
    _load(simulation)
    rows = AuditEvent.objects.filter(detail__system_load=True)
    kinds = {(r.action, r.record_type, tuple(r.fields)) for r in rows}
    assert ("create", "person", ()) in kinds
    assert ("create", "household", ()) in kinds
    assert ("update", "person", ("relationships",)) in kinds
    assert ("create", "report", ()) in kinds
    assert all(r.user is None for r in rows)


def test_names_are_what_most_records_of_a_person_agree_on(db, simulation):
    _load(simulation)
    truth = {r["record_id"]: r["person_id"] for r in _rows(simulation / "persons_truth.csv")}
    firsts: dict[str, list[str]] = defaultdict(list)
    for row in _rows(simulation / "persons.csv"):
        firsts[truth[row["record_id"]]].append(row["first_name"])
    majority: dict[str, int] = {}
    for person_id, names in firsts.items():
        name, count = Counter(names).most_common(1)[0]
        if person_id.startswith("C") and count > len(names) / 2 and len(names) >= 3:
            majority[name] = majority.get(name, 0) + 1
    loaded = Counter(Person.objects.values_list("first_name", flat=True))
    assert majority
    for name, count in majority.items():
        assert loaded[name] >= count, name


def test_the_command_says_what_it_loaded(db, simulation):
    printed = _load(simulation)
    assert "caregivers and relatives" in printed and "households" in printed
    assert "resource homes" in printed and "episodes" in printed and "placements" in printed
    assert "not loaded" not in printed


def test_the_loaded_county_exports_back_to_the_same_reports(db, simulation, tmp_path):
    _load(simulation)
    call_command("export_federal_tables", str(tmp_path / "back"))
    source = read_tables(simulation)["reports"]
    back = read_tables(tmp_path / "back")["reports"]
    key = ("report_id", "maltreatment_type", "maltreatment_level", "report_date")

    def rows(table):
        return sorted(tuple(r[k] for k in key) for r in table.to_pylist())

    assert rows(back) == rows(source)


def test_loading_twice_is_refused(db, simulation):
    _load(simulation)
    with pytest.raises(CommandError, match="already in the database"):
        _load(simulation)
    assert Household.objects.count() == len(_rows(simulation / "households.csv"))


def test_a_directory_without_tables_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("load_simulation", str(tmp_path))
    assert Report.objects.count() == 0
    assert Household.objects.count() == 0


def test_loaded_people_carry_the_address_phone_and_ssn_most_of_their_records_give(db, simulation):
    from kinfolk.core import crypto
    from kinfolk.people.models import Address, Identifier, Phone

    _load(simulation)
    truth = {r["record_id"]: r["person_id"] for r in _rows(simulation / "persons_truth.csv")}
    ssns: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _rows(simulation / "persons.csv"):
        if row["ssn"]:
            ssns[truth[row["record_id"]]][row["ssn"]] += 1
    assert Address.objects.count() > Person.objects.count() // 2
    assert Phone.objects.exists()
    identifiers = list(Identifier.objects.select_related("person")[:50])
    assert identifiers
    for ident in identifiers:
        value = crypto.decrypt(ident.value_encrypted)
        assert ident.last4 == value[-4:] and len(value) == 9
        # The stored number is one the person's own records give.
        assert any(value in counts for counts in ssns.values())
    assert Address.history.count() == Address.objects.count()
    assert AuditEvent.objects.filter(
        record_type="person", fields=["addresses", "identifiers", "phones"]
    ).exists()
