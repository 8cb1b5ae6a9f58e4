"""A person's version covers their names, addresses, phones, identifiers and relationships.

So a client holding an older copy learns of a change to any of them, and a wrong SSN never
silently replaces a right one.
"""

from __future__ import annotations

from typing import Any

import pytest

from kinfolk.core import crypto
from kinfolk.people.models import Identifier, Person


def _post(client: Any, person: Person, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        f"/api/v1/persons/{person.pk}/{path}",
        body,
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize(
    "path, body",
    [
        ("names/", {"first_name": "Millie", "last_name": "Ortega", "kind": "alias"}),
        ("addresses/", {"street": "4 Oak Lane", "city": "Adamsville", "state": "MO"}),
        ("identifiers/", {"kind": "ssn", "value": "123-45-6789"}),
    ],
)
def test_a_change_to_a_part_of_the_record_moves_its_version(
    personas, person_in, client_for, path, body
):
    person = person_in("ADM-N")
    response = _post(client_for(personas["ines"]), person, path, body)
    assert response.status_code in (200, 201), response.content
    person.refresh_from_db()
    assert person.version == 2
    assert response["ETag"] == '"2"'


def test_a_patch_based_on_a_copy_from_before_an_address_change_is_stale(
    personas, person_in, client_for
):
    person = person_in("ADM-N", middle_name="")
    client = client_for(personas["ines"])
    moved = _post(
        client, person, "addresses/", {"street": "4 Oak Lane", "city": "Adamsville", "state": "MO"}
    )
    assert moved.status_code == 201, moved.content
    stale = client.patch(
        f"/api/v1/persons/{person.pk}/",
        {"middle_name": "Ray"},
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    person.refresh_from_db()
    assert person.middle_name == ""


def test_replacing_an_ssn_without_if_match_is_refused_with_428(personas, person_in, client_for):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    first = _post(client, person, "identifiers/", {"kind": "ssn", "value": "123456789"})
    assert first.status_code == 200
    response = _post(client, person, "identifiers/", {"kind": "ssn", "value": "987654321"})
    assert response.status_code == 428
    ident = Identifier.objects.get(person=person, kind="ssn")
    assert crypto.decrypt(ident.value_encrypted) == "123456789"


def test_replacing_an_ssn_with_a_stale_if_match_gets_412_and_the_current_record(
    personas, person_in, client_for
):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    _post(client, person, "identifiers/", {"kind": "ssn", "value": "123456789"})
    response = _post(
        client, person, "identifiers/", {"kind": "ssn", "value": "987654321"}, **{"If-Match": '"1"'}
    )
    assert response.status_code == 412
    assert response.json()["current"]["version"] == 2
    assert response["ETag"] == '"2"'
    ident = Identifier.objects.get(person=person, kind="ssn")
    assert crypto.decrypt(ident.value_encrypted) == "123456789"


def test_replacing_an_ssn_with_the_current_version_replaces_it(personas, person_in, client_for):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    _post(client, person, "identifiers/", {"kind": "ssn", "value": "123456789"})
    response = _post(
        client, person, "identifiers/", {"kind": "ssn", "value": "987654321"}, **{"If-Match": '"2"'}
    )
    assert response.status_code == 200, response.content
    ident = Identifier.objects.get(person=person, kind="ssn")
    assert crypto.decrypt(ident.value_encrypted) == "987654321"
    assert response.json()["version"] == 3
