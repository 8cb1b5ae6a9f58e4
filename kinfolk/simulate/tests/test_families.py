"""Households and relationships behind the persons file: reports name families, kin are kin."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pyarrow.compute as pc
import pytest

from kinfolk.federal.tables import read_tables
from kinfolk.simulate.identity import HOUSEHOLDS_COLUMNS, LINKS_COLUMNS, RELATIONSHIPS_COLUMNS


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Family:
    """The side files of one run, joined on the ground-truth person id."""

    def __init__(self, directory: Path) -> None:
        self.truth = {
            r["record_id"]: r["person_id"] for r in _rows(directory / "persons_truth.csv")
        }
        self.links = _rows(directory / "persons_links.csv")
        self.households = _rows(directory / "households.csv")
        self.relationships = _rows(directory / "relationships.csv")
        self.household_of: dict[str, set[str]] = defaultdict(set)
        for link in self.links:
            if link["role"] != "kin_caregiver":
                self.household_of[self.truth[link["record_id"]]].add(link["household_id"])


@pytest.fixture(scope="module")
def family(small_run: Path) -> Family:
    return Family(small_run)


def test_the_side_files_have_their_headers(small_run: Path) -> None:
    for name, columns in (
        ("persons_links.csv", LINKS_COLUMNS),
        ("households.csv", HOUSEHOLDS_COLUMNS),
        ("relationships.csv", RELATIONSHIPS_COLUMNS),
    ):
        with (small_run / name).open(encoding="utf-8") as handle:
            assert handle.readline().strip() == ",".join(columns), name


def test_every_record_has_one_link_to_a_known_household_and_report(
    family: Family, small_run: Path
) -> None:
    assert sorted(link["record_id"] for link in family.links) == sorted(family.truth)
    households = {h["household_id"] for h in family.households}
    assert len(households) == len(family.households)
    assert {link["household_id"] for link in family.links} == households
    reports = set(read_tables(small_run)["reports"].column("report_id").to_pylist())
    named = {link["report_id"] for link in family.links if link["report_id"]}
    assert named <= reports
    assert {link["role"] for link in family.links} == {"child", "caregiver", "kin_caregiver"}


def test_every_relationship_names_people_on_the_persons_file(family: Family) -> None:
    people = set(family.truth.values())
    assert family.relationships
    for rel in family.relationships:
        assert rel["person_id"] in people and rel["related_person_id"] in people, rel
        assert rel["person_id"] != rel["related_person_id"]
    kinds = {rel["kind"] for rel in family.relationships}
    assert kinds == {"parent", "partner", "sibling", "grandparent", "aunt_uncle"}
    pairs = [(r["person_id"], r["related_person_id"], r["kind"]) for r in family.relationships]
    assert len(set(pairs)) == len(pairs)


def test_siblings_share_a_household_and_parents_live_with_their_children(family: Family) -> None:
    for rel in family.relationships:
        a, b = rel["person_id"], rel["related_person_id"]
        if rel["kind"] == "sibling" and a.startswith("C"):
            assert family.household_of[a] == family.household_of[b], rel
        if rel["kind"] == "parent" and b.startswith("C"):
            assert family.household_of[a] == family.household_of[b], rel


def test_reports_name_families_with_their_mother(family: Family) -> None:
    """Every family on the file has its mother on it, and most reports name a caregiver."""
    people = set(family.truth.values())
    for household in family.households:
        assert "M" + household["household_id"][1:] in people
    roles: dict[str, set[str]] = defaultdict(set)
    for link in family.links:
        if link["report_id"]:
            roles[link["report_id"]].add(link["role"])
    with_child = [r for r, found in roles.items() if "child" in found]
    assert with_child
    assert sum("caregiver" in roles[r] for r in with_child) / len(with_child) > 0.9


def test_kin_placement_providers_are_relatives_of_the_child(
    family: Family, small_run: Path
) -> None:
    caregiver_of = {
        link["provider_id"]: family.truth[link["record_id"]]
        for link in family.links
        if link["role"] == "kin_caregiver"
    }
    related = {
        (r["person_id"], r["related_person_id"])
        for r in family.relationships
        if r["kind"] in ("grandparent", "aunt_uncle")
    }
    placements = read_tables(small_run)["placements"]
    kin = placements.filter(pc.starts_with(placements["provider_id"], "K"))
    assert kin.num_rows > 0
    for row in kin.select(["child_id", "provider_id"]).to_pylist():
        relative = caregiver_of[row["provider_id"]]
        assert (relative, row["child_id"]) in related, row
