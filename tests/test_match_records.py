"""What the matching index and the duplicate check read of a person, and how few queries.

A person's index records carry their other names, the last four of an SSN, the current
address, a phone and the names of records merged into them. These are read only for the
people who have some: a person with none (everyone a hotline filing has just created) costs
their own row alone, where a prefetch of each part cost five more queries per read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kinfolk.people import matchindex, selectors, services
from kinfolk.people.models import Person
from kinfolk.people.selectors import SearchQuery

PARTS = [part for part, _, _ in matchindex.PARTS]


@pytest.fixture
def hana(personas):
    return personas["hana"]


@pytest.fixture
def everything(personas, org) -> Person:
    """A person with each part the index reads: an alias, an SSN, an address, a phone, and a
    record merged into them."""
    person = services.person_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        values={"first_name": "Odalys", "last_name": "Quillfeather", "sex": "2"},
        names=[{"kind": "alias", "first_name": "Dally", "last_name": "Quill"}],
        identifiers=[{"kind": "ssn", "value": "123-45-6789"}],
        addresses=[{"street": "4 Elm St", "city": "Adamsville", "state": "AL"}],
        phones=[{"number": "555-201-7788", "kind": "mobile"}],
    )
    twin = services.person_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        values={"first_name": "Odalis", "last_name": "Quilfeather", "sex": "2"},
    )
    services.person_merge(
        user=personas["sam"], survivor_id=person.pk, merged_id=twin.pk, reason="Same woman"
    )
    return person


@pytest.fixture
def bare(personas, org) -> Person:
    return services.person_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        values={"first_name": "Bartholomew", "last_name": "Quillfeather", "sex": "1"},
    )


def _records(people: list[Person]) -> dict[Any, list[Any]]:
    return {p.pk: list(matchindex.records_for(p)) for p in people}


def _read_in_full(*people: Person) -> list[Person]:
    return list(
        Person.objects.filter(pk__in=[p.pk for p in people]).order_by("pk").prefetch_related(*PARTS)
    )


def test_a_reindex_reads_every_part_a_person_has(everything, bare):
    read = list(matchindex._people([everything.pk, bare.pk]))
    assert _records(read) == _records(_read_in_full(everything, bare))
    records = _records(read)[everything.pk]
    assert {r.ssn for r in records} == {"6789"}
    assert {r.phone for r in records} == {"555-201-7788"}
    assert {r.street for r in records} == {"4 Elm St"}
    # Its own name, the alias and the merged record's spelling.
    assert {r.last_name for r in records} == {"Quillfeather", "Quill", "Quilfeather"}


def test_a_person_with_nothing_but_their_row_costs_one_query(bare, personas, org):
    other = services.person_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        values={"first_name": "Fenna", "last_name": "Quillfeather"},
    )
    with CaptureQueriesContext(connection) as queries:
        read = list(matchindex._people([bare.pk, other.pk]))
        records = _records(read)
    assert len(queries.captured_queries) == 1
    assert records == _records(_read_in_full(bare, other))
    # Known to be empty, as after a prefetch: asking again reads nothing.
    with CaptureQueriesContext(connection) as queries:
        for person in read:
            assert [list(getattr(person, part).all()) for part in PARTS] == [[]] * len(PARTS)
    assert queries.captured_queries == []


def test_a_part_is_read_only_for_the_people_who_have_it(everything, bare):
    with CaptureQueriesContext(connection) as queries:
        list(matchindex._people([everything.pk, bare.pk]))
    # The two rows, then one query per part, for the one person who has them.
    assert len(queries.captured_queries) == 1 + len(PARTS)
    for sql in (q["sql"] for q in queries.captured_queries[1:]):
        assert str(bare.pk).replace("-", "") not in sql.replace("-", "")


def test_search_candidates_come_with_their_parts(hana, everything, bare):
    results = selectors.person_search(
        user=hana, query=SearchQuery(first_name="Odalys", last_name="Quillfeather")
    )
    found = {r.person.pk: r for r in results}
    assert everything.pk in found and bare.pk in found
    in_full = _records(_read_in_full(bare))
    with CaptureQueriesContext(connection) as queries:
        assert found[everything.pk].masked_ssn.endswith("6789")
        assert found[bare.pk].masked_ssn == ""
        assert _records([found[bare.pk].person]) == in_full
    assert queries.captured_queries == []


def test_the_possible_duplicate_check_scores_against_every_name_of_a_candidate(hana, everything):
    # Only the alias is like the new record: the pair score must have read it.
    likely = selectors.person_possible_duplicates(
        user=hana, values={"first_name": "Dally", "last_name": "Quill", "sex": "2"}
    )
    assert everything.pk in {r.person.pk for r in likely}


def test_the_key_search_finds_people_by_first_name_alone(hana, bare):
    by_prefix = selectors._db_scores(hana, SearchQuery(first_name="Bartholomew"), set())
    assert bare.pk in by_prefix


def test_the_key_search_finds_people_by_date_of_birth_alone(hana, personas, org):
    born = dt.date(2015, 6, 7)
    child = services.person_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        values={"first_name": "Wren", "last_name": "Abernathy", "date_of_birth": born},
    )
    blocks = selectors._key_blocks(SearchQuery(date_of_birth=born), "", "")
    assert blocks is not None
    assert list(Person.objects.filter(pk__in=blocks).values_list("pk", flat=True)) == [child.pk]


def test_the_key_search_reads_the_reach_it_is_given(hana, bare):
    scope = selectors.search_scope(hana)
    with CaptureQueriesContext(connection) as queries:
        selectors._db_scores(hana, SearchQuery(last_name="Quillfeather"), set(), scope=scope)
    assert not any("core_assignment" in q["sql"] for q in queries.captured_queries)
