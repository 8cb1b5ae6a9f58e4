"""Malformed and hostile input: a clear 4xx naming each field, and the data untouched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kinfolk.core.models import User
from kinfolk.people.models import Address, Person, Relationship

VALID = {"first_name": "Marisol", "last_name": "Quintero", "org_unit": "ADM-N"}
HOSTILE_BUT_STORABLE = [
    "<script>alert('x')</script>",
    "Robert'); DROP TABLE people_person;--",
    "Zoë Ñúñez-O'Brien",
    "\u202eevil\u202c",  # right-to-left override
    "👩‍👧‍👦",
]


def _snapshot() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Address.objects.count(),
        Relationship.objects.count(),
        User.objects.count(),
    )


def _post(client: Any, url: str, body: Any, raw: bool = False) -> Any:
    data = body if raw else json.dumps(body)
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def ines_client(personas, client_for):
    return client_for(personas["ines"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "first_name": ""}, "first_name"),
        ({k: v for k, v in VALID.items() if k != "last_name"}, "last_name"),
        ({**VALID, "first_name": "x" * 101}, "first_name"),
        ({**VALID, "first_name": 42}, "first_name"),
        ({**VALID, "first_name": ["a"]}, "first_name"),
        ({**VALID, "date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({**VALID, "date_of_birth": "02/03/2019"}, "date_of_birth"),
        ({**VALID, "date_of_birth": "2019-02-30"}, "date_of_birth"),
        ({**VALID, "sex": "M"}, "sex"),
        ({**VALID, "org_unit": "NOPE"}, "org_unit"),
        ({**VALID, "ssn": "12345"}, "ssn"),
        ({**VALID, "race_white": "maybe"}, "race_white"),
        ({**VALID, "is_admin": True}, "is_admin"),
        ({**VALID, "first_name": "A\x00B"}, "first_name"),
        ({**VALID, "first_name": "bad\ud800surrogate"}, "first_name"),
        ({**VALID, "addresses": [{"street": "1 Main", "city": "X", "state": "zz"}]}, "addresses"),
        ({**VALID, "phones": [{"number": "<b>call</b>"}]}, "phones"),
        ({**VALID, "names": "not a list"}, "names"),
        ({**VALID, "org_unit": "AD\x00M"}, "org_unit"),
        ({**VALID, "org_unit": "\udbc4\udc61"}, "org_unit"),
    ],
)
def test_person_create_names_the_bad_field_and_saves_nothing(ines_client, body, field):
    before = _snapshot()
    response = _post(ines_client, "/api/v1/persons/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert _snapshot() == before


@pytest.mark.parametrize("raw", ["{", "[1, 2", "null", '"a string"', "[]", '{"first_name": }'])
def test_malformed_json_is_a_400_not_a_500(ines_client, raw):
    before = _snapshot()
    response = _post(ines_client, "/api/v1/persons/", raw, raw=True)
    assert response.status_code == 400
    assert response.json()["code"] in {"malformed", "invalid"}
    assert _snapshot() == before


def test_a_non_json_content_type_is_refused(ines_client):
    response = ines_client.post("/api/v1/persons/", "first_name=x", content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.parametrize("text", HOSTILE_BUT_STORABLE)
def test_hostile_but_valid_text_is_stored_verbatim_and_escaped_on_pages(ines_client, text):
    response = _post(ines_client, "/api/v1/persons/", {**VALID, "first_name": text})
    assert response.status_code == 201
    person = Person.objects.get(pk=response.json()["id"])
    assert person.first_name == text
    page = ines_client.get(f"/people/{person.pk}/").content.decode()
    assert "<script>alert" not in page
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    ("url_suffix", "body", "field"),
    [
        ("addresses/", {"street": "", "city": "X", "state": "MO"}, "street"),
        (
            "addresses/",
            {"street": "1 Main", "city": "X", "state": "MO", "valid_from": "2999-01-01"},
            "valid_from",
        ),
        (
            "addresses/",
            {"street": "1 Main", "city": "X", "state": "MO", "postcode": "ABCDE"},
            "postcode",
        ),
        ("relationships/", {"related": "not-a-uuid", "kind": "parent"}, "related"),
        (
            "relationships/",
            {"related": "00000000-0000-0000-0000-000000000000", "kind": "uncle"},
            "kind",
        ),
        (
            "relationships/",
            {"related": "00000000-0000-0000-0000-000000000000", "kind": "parent"},
            "related",
        ),
        ("identifiers/", {"kind": "ssn", "value": "12"}, "ssn"),
        ("identifiers/", {"kind": "passport", "value": "123"}, "kind"),
        ("names/", {"kind": "alias"}, "last_name"),
        ("break-glass/", {"reason": 5}, "reason"),
    ],
)
def test_sub_resources_refuse_bad_input(personas, person_in, client_for, url_suffix, body, field):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    before = _snapshot()
    response = _post(client, f"/api/v1/persons/{person.pk}/{url_suffix}", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert _snapshot() == before


def test_relationship_to_oneself_is_refused(personas, person_in, client_for):
    person = person_in("ADM-N")
    response = _post(
        client_for(personas["ines"]),
        f"/api/v1/persons/{person.pk}/relationships/",
        {"related": str(person.pk), "kind": "sibling"},
    )
    assert response.status_code == 400
    assert "related" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": ""},
        {"date_of_birth": "2999-01-01"},
        {"version": 9},
        {"org_unit": "CED-1"},
        {},
    ],
)
def test_patch_refuses_bad_changes_and_leaves_the_record(personas, person_in, client_for, body):
    person = person_in("ADM-N", first_name="Keep")
    response = client_for(personas["ines"]).patch(
        f"/api/v1/persons/{person.pk}/",
        body,
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert (person.first_name, person.version, person.org_unit.code) == ("Keep", 1, "ADM-N")


@pytest.mark.parametrize(
    "query",
    [
        "?q=" + "x" * 500,
        "?date_of_birth=yesterday",
        "?sex=X",
        "?limit=0",
        "?limit=abc",
        "?identifier=abc",
        "?q=%00",
        "?unknown=1",
    ],
)
def test_search_refuses_bad_parameters(ines_client, query):
    response = ines_client.get("/api/v1/persons/" + query)
    assert response.status_code == 400


@pytest.mark.parametrize("person_id", ["not-a-uuid", "'; DROP TABLE x;--", "1" * 300])
def test_malformed_ids_are_404s(ines_client, person_id):
    assert ines_client.get(f"/api/v1/persons/{person_id}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "bad name!", "password": "long-enough-pass"}, "username"),
        ({"username": "newuser", "password": "short"}, "password"),
        (
            {"username": "newuser", "password": "long-enough-pass", "roles": [{"role": "king"}]},
            "roles",
        ),
        ({"username": "newuser", "password": "long-enough-pass", "email": "nope"}, "email"),
        ({"username": "ines", "password": "long-enough-pass-9"}, "username"),
        ({"username": "newuser", "password": "password123"}, "password"),
    ],
)
def test_user_creation_refuses_bad_input(personas, client_for, body, field):
    before = _snapshot()
    response = _post(client_for(personas["adam"]), "/api/v1/users/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert _snapshot() == before


@pytest.mark.parametrize("query", ["?since=notadate", "?limit=100000", "?action=explode", "?x=1"])
def test_audit_filters_refuse_bad_parameters(personas, client_for, query):
    assert client_for(personas["audrey"]).get("/api/v1/audit/" + query).status_code == 400


def test_token_endpoint_refuses_bad_credentials(personas, client):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "ines", "password": "wrong"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_a_nul_byte_in_a_household_org_unit_is_a_400(personas, client_for):
    response = _post(
        client_for(personas["ines"]),
        "/api/v1/households/",
        {"label": "H", "org_unit": "A\x00", "members": []},
    )
    assert response.status_code == 400


def test_a_nul_byte_in_a_role_choice_is_a_form_error(personas, client_for):
    response = client_for(personas["adam"]).post(
        f"/users/{personas['ines'].pk}/roles/",
        {"role": "super\x00visor", "org_unit": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert personas["ines"].role_assignments.count() == 1


def test_a_nul_byte_in_a_draft_key_is_a_404(personas, client_for):
    client = client_for(personas["hana"])
    assert client.get("/api/v1/reports/drafts/a%00b/").status_code == 404
