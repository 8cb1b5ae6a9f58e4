"""The people registry: create, search (typo-tolerant), identifiers, addresses, history."""

from __future__ import annotations

from datetime import date

import pytest

from kinfolk.core import crypto
from kinfolk.people.models import Address, Identifier, Person


def _create(client, **body):
    payload = {
        "first_name": "Jaylen",
        "last_name": "Carter",
        "org_unit": "ADM-N",
        "date_of_birth": "2017-03-09",
        "sex": "1",
    } | body
    return client.post("/api/v1/persons/", payload, content_type="application/json")


@pytest.fixture
def ines(personas, client_for):
    return client_for(personas["ines"])


def test_a_worker_adds_a_person_in_their_own_office(ines):
    response = _create(ines)
    assert response.status_code == 201
    assert response.json()["org_unit"]["code"] == "ADM-N"
    assert getattr(Person.objects.get().created_by, "username", None) == "ines"


def test_a_worker_cannot_add_a_person_to_another_county(ines):
    response = _create(ines, org_unit="CED-1")
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_the_ssn_is_encrypted_at_rest_and_shown_masked(ines):
    response = _create(ines, ssn="123-45-6789")
    assert response.json()["identifiers"] == [{"kind": "ssn", "masked": "***-**-6789"}]
    stored = Identifier.objects.get()
    assert "123456789" not in stored.value_encrypted
    assert crypto.decrypt(stored.value_encrypted) == "123456789"
    assert "6789" in str(response.content) and "12345" not in str(response.content)


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
def test_search_finds_the_person_despite_typos_and_partial_data(ines, query):
    person_id = _create(ines, ssn="123456789").json()["id"]
    _create(ines, first_name="Maria", last_name="Lopez", date_of_birth="2015-01-01")
    results = ines.get(f"/api/v1/persons/?{query}").json()
    assert results and results[0]["id"] == person_id
    assert results[0]["reasons"]


def test_search_explains_a_swapped_day_and_month(ines):
    _create(ines)
    results = ines.get("/api/v1/persons/?q=Jaylen Carter&date_of_birth=2017-09-03").json()
    assert "date of birth with day and month swapped" in results[0]["reasons"]


def test_search_finds_people_by_an_alias(ines):
    person_id = _create(
        ines, names=[{"kind": "former", "last_name": "Whitfield", "first_name": "Jaylen"}]
    ).json()["id"]
    results = ines.get("/api/v1/persons/?q=Jaylen Whitfield").json()
    assert results[0]["id"] == person_id


def test_search_is_audited_with_what_was_shown(ines):
    from kinfolk.core.models import AuditEvent

    person_id = _create(ines).json()["id"]
    ines.get("/api/v1/persons/?q=Carter")
    row = AuditEvent.objects.filter(action="search").latest("id")
    assert row.detail["shown"] == [person_id]


def test_a_move_closes_the_previous_address(ines):
    person_id = _create(
        ines,
        addresses=[
            {"street": "1 Oak St", "city": "Adamsville", "state": "DS", "valid_from": "2020-01-01"}
        ],
    ).json()["id"]
    response = ines.post(
        f"/api/v1/persons/{person_id}/addresses/",
        {"street": "9 Elm St", "city": "Southport", "state": "DS", "valid_from": "2024-06-01"},
        content_type="application/json",
    )
    assert response.status_code == 201
    old, new = Address.objects.order_by("valid_from")
    assert old.valid_to == date(2024, 6, 1)
    assert new.valid_to is None


def test_relationships_are_recorded_both_ways_on_the_page(ines):
    parent = _create(ines, first_name="Dana", date_of_birth="1990-01-01").json()["id"]
    child = _create(ines).json()["id"]
    response = ines.post(
        f"/api/v1/persons/{parent}/relationships/",
        {"related": child, "kind": "parent"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["relationships"][0]["related"] == child
    page = ines.get(f"/people/{child}/").content.decode()
    assert "is their parent" in page


def test_the_person_page_shows_the_records_history(ines):
    person_id = _create(ines, middle_name="").json()["id"]
    ines.patch(
        f"/api/v1/persons/{person_id}/",
        {"middle_name": "Ray"},
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    page = ines.get(f"/people/{person_id}/").content.decode()
    assert "History of this record" in page
    assert "changed: middle_name" in page


def test_a_household_groups_people_and_shows_on_their_records(ines):
    mother = _create(ines, first_name="Dana", date_of_birth="1990-01-01").json()["id"]
    child = _create(ines).json()["id"]
    response = ines.post(
        "/api/v1/households/",
        {
            "label": "Carter household",
            "org_unit": "ADM-N",
            "members": [{"person": mother, "role": "head"}, {"person": child, "role": "child"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    household_id = response.json()["id"]
    assert ines.get(f"/api/v1/households/{household_id}/").status_code == 200
    person = ines.get(f"/api/v1/persons/{child}/").json()
    assert person["households"][0]["household"] == household_id


@pytest.mark.parametrize(
    "members",
    [
        [],
        [{"person": "00000000-0000-0000-0000-000000000000", "role": "child"}],
        [{"person": "x", "role": "child"}],
        [{"person": None, "role": "king"}],
    ],
)
def test_a_household_refuses_unknown_or_malformed_members(ines, members):
    from kinfolk.people.models import Household

    response = ines.post(
        "/api/v1/households/",
        {"label": "H", "org_unit": "ADM-N", "members": members},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Household.objects.exists()


def test_a_household_outside_scope_is_a_404(personas, person_in, client_for, ines):
    child = _create(ines).json()["id"]
    household_id = ines.post(
        "/api/v1/households/",
        {"label": "H", "org_unit": "ADM-N", "members": [{"person": child, "role": "child"}]},
        content_type="application/json",
    ).json()["id"]
    assert (
        client_for(personas["ivan"]).get(f"/api/v1/households/{household_id}/").status_code == 404
    )
