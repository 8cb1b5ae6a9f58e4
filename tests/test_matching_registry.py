"""Registry search through the person-matching index, kept in step by the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from kinfolk.core.models import AuditEvent
from kinfolk.people import matchindex, selectors, services
from kinfolk.people.models import Address, Person, Phone


@pytest.fixture
def ines(personas, client_for):
    return client_for(personas["ines"])


@pytest.fixture
def create(ines, django_capture_on_commit_callbacks) -> Callable[..., str]:
    """Add a person through the API and run the after-commit index update, as in production."""

    def make(**body: Any) -> str:
        payload = {
            "first_name": "Jaylen",
            "last_name": "Carter",
            "org_unit": "ADM-N",
            "date_of_birth": "2017-03-09",
            "sex": "1",
        } | body
        with django_capture_on_commit_callbacks(execute=True):
            response = ines.post("/api/v1/persons/", payload, content_type="application/json")
        assert response.status_code == 201, response.content
        return str(response.json()["id"])

    return make


def _search(user, **query) -> list[selectors.SearchResult]:
    return selectors.person_search(user=user, query=selectors.SearchQuery(**query))


def test_a_created_person_is_in_the_index(create):
    person_id = create()
    index = matchindex.get_index(create=False)
    assert index is not None
    assert person_id in index
    assert len(index) == 1


@pytest.mark.parametrize(
    "query",
    [
        "q=Jaylen Carter",
        "q=Jalen Carter",
        "q=Jaylen Karter",
        "q=Carter, Jaylen",
        "q=carter",
        "identifier=6789",
        "identifier=123456789",
        "q=Jaylen Carter&date_of_birth=2017-09-03",
    ],
)
def test_the_index_finds_the_person_despite_typos_and_partial_data(ines, create, query):
    person_id = create(ssn="123456789")
    create(first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    assert len(matchindex.get_index(create=False) or []) == 2
    results = ines.get(f"/api/v1/persons/?{query}").json()
    assert results and results[0]["id"] == person_id
    assert results[0]["reasons"]
    assert 0 < results[0]["score"] <= 1


def test_the_index_explains_a_swapped_day_and_month(ines, create):
    create()
    create(first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    results = ines.get("/api/v1/persons/?q=Jaylen Carter&date_of_birth=2017-09-03").json()
    reasons = results[0]["reasons"]
    assert any(r.endswith(" date of birth with day and month swapped") for r in reasons)
    assert any(" first name matches" in r for r in reasons)


def _weight(line: str) -> float:
    return float(line.split(" ", 1)[0].replace("\u2212", "-"))


def test_each_line_of_an_explanation_says_how_much_it_counted(ines, create):
    create()
    create(first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    results = ines.get("/api/v1/persons/?q=Jaylen Carter&date_of_birth=2017-09-03").json()
    reasons = results[0]["reasons"]
    assert reasons[-1].endswith("starting odds, before any evidence")
    assert all(r[0] in "+\u2212" for r in reasons)
    # The weights are the model's own: they add up to the probability shown beside them.
    implied = 1 / (1 + 2 ** -sum(_weight(r) for r in reasons))
    assert implied == pytest.approx(results[0]["score"], abs=0.02)


def test_evidence_against_a_match_has_a_negative_weight(ines, create):
    create()
    results = ines.get("/api/v1/persons/?q=Jaylen Carter&date_of_birth=2011-01-20").json()
    differs = [r for r in results[0]["reasons"] if "date of birth differs" in r]
    assert differs and _weight(differs[0]) < 0


@pytest.fixture
def two_namesakes(person_in) -> tuple[Person, Person]:
    """Two people of the same name and birth date, at different homes (loaded unchecked)."""
    oak = person_in("ADM-N", first_name="Jaylen", last_name="Carter", sex="1")
    elm = person_in(
        "ADM-N", first_name="Jaylen", last_name="Carter", sex="1", date_of_birth=oak.date_of_birth
    )
    Address.objects.create(
        person=oak, street="12 Oak Street", city="Adamsville", state="DS", postcode="65001"
    )
    Address.objects.create(
        person=elm, street="480 Elm Avenue", city="Cedar Falls", state="DS", postcode="65900"
    )
    Phone.objects.create(person=oak, number="555-201-0001")
    Phone.objects.create(person=elm, number="555-909-0002")
    matchindex.rebuild()
    return oak, elm


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("street=12 Oak Street", 0),
        ("street=480 Elm Ave&city=Cedar Falls", 1),
        ("postcode=65900", 1),
        ("city=Adamsville&postcode=65001", 0),
        ("phone=555-909-0002", 1),
        ("phone=(555) 201-0001", 0),
    ],
)
def test_address_pieces_and_phone_tell_namesakes_apart(ines, two_namesakes, where, expected):
    wanted = two_namesakes[expected]
    results = ines.get(f"/api/v1/persons/?q=Jaylen Carter&{where}").json()
    assert [r["id"] for r in results][:1] == [str(wanted.pk)]
    assert results[0]["score"] > results[1]["score"]


def test_a_search_by_address_alone_is_a_search(personas, two_namesakes):
    oak, _ = two_namesakes
    results = _search(personas["ines"], street="12 Oak Street", postcode="65001")
    assert results and results[0].person.pk == oak.pk


@pytest.mark.parametrize(
    ("query", "field"), [("postcode=6500", "postcode"), ("phone=call me", "phone")]
)
def test_a_bad_address_or_phone_in_a_search_is_a_field_error(ines, query, field):
    response = ines.get(f"/api/v1/persons/?q=Carter&{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_the_index_finds_people_by_another_name(ines, create):
    person_id = create(names=[{"kind": "former", "last_name": "Whitfield", "first_name": "Jaylen"}])
    create(first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    results = ines.get("/api/v1/persons/?q=Jaylen Whitfield").json()
    assert results[0]["id"] == person_id
    assert "known by another name" in results[0]["reasons"]


def test_a_renamed_person_is_found_under_the_new_name_not_the_old(
    personas, create, django_capture_on_commit_callbacks
):
    person_id = create()
    create(first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    ines = personas["ines"]
    person = Person.objects.get(pk=person_id)
    with django_capture_on_commit_callbacks(execute=True):
        services.person_update(
            user=ines,
            person_id=person_id,
            expected_version=person.version,
            changes={"first_name": "Bartholomew", "last_name": "Quigley"},
        )
    assert [str(r.person.pk) for r in _search(ines, name="Bartholomew Quigley")][:1] == [person_id]
    assert person_id not in {str(r.person.pk) for r in _search(ines, name="Jaylen Carter")}


def test_a_new_address_is_indexed(personas, create, django_capture_on_commit_callbacks):
    person_id = create()
    with django_capture_on_commit_callbacks(execute=True):
        services.person_address_add(
            user=personas["ines"],
            person_id=person_id,
            data={"street": "12 Birch Lane", "city": "Adamsville", "state": "DS"},
        )
    index = matchindex.get_index(create=False)
    assert index is not None
    score = index.score(matchindex.PersonRecord(record_id="", street="12 Birch Lane"), person_id)
    assert score is not None
    assert score.weights["street"] > 0


def test_nothing_reaches_the_index_before_the_transaction_commits(personas, create):
    create()
    services.person_create(
        user=personas["ines"],
        org_unit=personas["ines"].role_assignments.first().org_unit,
        values={"first_name": "Uncommitted", "last_name": "Person"},
    )
    assert len(matchindex.get_index(create=False) or []) == 1


def test_search_never_returns_a_person_outside_the_users_scope(personas, person_in, create):
    create()
    other = person_in("CED-1", first_name="Jaylen", last_name="Carter")
    call_command("rebuild_match_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    index = matchindex.get_index(create=False)
    assert index is not None and str(other.pk) in index
    found = {r.person.pk for r in _search(personas["ines"], name="Jaylen Carter")}
    assert other.pk not in found
    assert found
    found_ivan = {r.person.pk for r in _search(personas["ivan"], name="Jaylen Carter")}
    assert other.pk in found_ivan


def test_rebuild_fills_the_index_from_the_database(person_in):
    people = [person_in("ADM-N", first_name=f"Kid{i}", last_name="Okafor") for i in range(3)]
    assert matchindex.get_index(create=False) is None
    assert matchindex.rebuild() == 3
    index = matchindex.get_index(create=False)
    assert index is not None
    assert all(str(p.pk) in index for p in people)


def test_without_an_index_the_database_search_still_answers(personas, person_in):
    person = person_in("ADM-N", first_name="Jaylen", last_name="Carter")
    assert matchindex.get_index(create=False) is None
    results = _search(personas["ines"], name="Jaylen Carter")
    assert [r.person.pk for r in results] == [person.pk]
    assert "last name matches" in results[0].reasons


def test_an_index_search_is_audited_with_what_was_shown(ines, create):
    person_id = create()
    ines.get("/api/v1/persons/?q=Carter")
    row = AuditEvent.objects.filter(action="search").latest("id")
    assert row.detail["shown"] == [person_id]


def test_the_index_holds_only_the_last_four_digits_of_an_ssn(create, match_index_path):
    create(ssn="123456789")
    matchindex.close_index()
    assert b"123456789" not in match_index_path.read_bytes()


def test_an_index_from_another_matcher_version_falls_back_to_the_database(
    personas, person_in, match_index_path
):
    import sqlite3

    person = person_in("ADM-N", first_name="Jaylen", last_name="Carter")
    matchindex.rebuild()
    matchindex.close_index()
    with sqlite3.connect(match_index_path) as db:
        db.execute("UPDATE meta SET value = 'old' WHERE name = 'format'")
    results = _search(personas["ines"], name="Jaylen Carter")
    assert [r.person.pk for r in results] == [person.pk]
