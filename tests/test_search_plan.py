"""The duplicate check reads indexes, not the whole registry.

Every new person on a hotline report is searched for before being created. With the surname
prefix, its phonetic key, the alias names and the date of birth OR-ed on one scan of the
person table, PostgreSQL read every row of it: at a state's 1.4 million people, each check
became a sequential scan. The keys are now a UNION of index scans; this pins the plan.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kinfolk.people import search, selectors
from kinfolk.people.models import Person, PersonName
from kinfolk.people.selectors import SearchQuery


def _registry(org_unit, n: int) -> None:
    people = []
    for i in range(n):
        first, last = f"Aa{i:05d}", f"Surname{i % 997:03d}"
        keys = search.keys_for(first, last)
        people.append(
            Person(
                id=uuid.uuid4(),
                org_unit=org_unit,
                first_name=first,
                last_name=last,
                date_of_birth=dt.date(2010, 1, 1) + dt.timedelta(days=i % 3000),
                sex="1",
                search_first=keys.first,
                search_last=keys.last,
                search_last_key=keys.last_key,
                search_first_key=keys.first_key,
            )
        )
    Person.objects.bulk_create(people, batch_size=2000)
    PersonName.objects.create(
        person=people[0],
        kind="alias",
        last_name="Zed",
        search_last="zed",
        search_last_key=search.phonetic("zed"),
    )


def _key_query(user) -> str:
    query = SearchQuery(
        first_name="Bee", last_name="Quimby", date_of_birth=dt.date(2012, 5, 5), sex="1"
    )
    with CaptureQueriesContext(connection) as queries:
        selectors._db_scores(user, query, set())
    return next(
        q["sql"]
        for q in queries.captured_queries
        if "search_last" in q["sql"] and "UNION" in q["sql"]
    )


def test_the_key_search_finds_people_by_surname_prefix_key_alias_and_birth_date(personas, org):
    _registry(org["ADM-N"], 50)
    user = personas["hana"]
    hits = selectors._db_scores(
        user, SearchQuery(first_name="Aa00003", last_name="Surname003", sex="1"), set()
    )
    assert any(Person.objects.get(pk=pk).first_name == "Aa00003" for pk in hits)
    alias_hits = selectors._db_scores(
        user, SearchQuery(first_name="Aa00000", last_name="Zed", sex="1"), set()
    )
    assert Person.objects.get(first_name="Aa00000").pk in alias_hits


@pytest.mark.postgres
def test_the_duplicate_check_reads_indexes_not_the_person_table(personas, org):
    _registry(org["ADM-N"], 20000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    sql = _key_query(personas["hana"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on people_person " not in plan + " ", plan
    assert "person_last_prefix" in plan, plan
