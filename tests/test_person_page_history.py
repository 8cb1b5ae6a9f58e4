"""The person page's History: the person and everything recorded about them, in one list."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def ines(personas, client_for):
    return client_for(personas["ines"])


def _create(client, **body):
    payload = {
        "first_name": "Jaylen",
        "last_name": "Carter",
        "org_unit": "ADM-N",
        "date_of_birth": "2017-03-09",
        "sex": "1",
    } | body
    response = client.post("/api/v1/persons/", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _post(client, person_id, what, body):
    # Replacing an identifier needs the version last read (If-Match).
    version = client.get(f"/api/v1/persons/{person_id}/")["ETag"]
    response = client.post(
        f"/api/v1/persons/{person_id}/{what}/",
        body,
        content_type="application/json",
        headers={"If-Match": version},
    )
    assert response.status_code in {200, 201}, response.content
    return response


def _history(page: str) -> list[tuple[str, ...]]:
    """The rows of the History table as (when, who, what)."""
    section = page[page.index('id="history-heading"') :]
    section = section[: section.index("</section>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append(tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells))
    return [row for row in rows if len(row) == 3]


def _what(page: str) -> list[str]:
    return [what for _, _, what in _history(page)]


def test_the_history_lists_names_identifiers_addresses_phones_and_relationships(ines):
    person_id = _create(
        ines,
        ssn="123-45-6789",
        names=[{"kind": "former", "first_name": "Jaylen", "last_name": "Whitfield"}],
        addresses=[{"street": "1 Oak St", "city": "Adamsville", "state": "DS"}],
        phones=[{"number": "555-010-0199", "kind": "home"}],
    )
    parent_id = _create(ines, first_name="Dana", date_of_birth="1990-01-01")
    _post(ines, parent_id, "relationships", {"related": person_id, "kind": "parent"})

    page = ines.get(f"/people/{person_id}/").content.decode()
    what = " / ".join(_what(page))
    assert "Person created" in what
    assert "Name (Former name) created" in what
    assert "Identifier (Social Security number ***-**-6789) created" in what
    assert "Address created" in what
    assert "Phone (Home) created" in what
    assert "Relationship (Parent) created" in what


def test_the_history_says_who_changed_what(personas, ines, client_for):
    person_id = _create(
        ines, addresses=[{"street": "1 Oak St", "city": "Adamsville", "state": "DS"}]
    )
    client_for(personas["sam"]).post(
        f"/api/v1/persons/{person_id}/addresses/",
        {"street": "9 Elm St", "city": "Southport", "state": "DS", "valid_from": "2024-06-01"},
        content_type="application/json",
    )
    rows = _history(ines.get(f"/people/{person_id}/").content.decode())
    assert ("Sam", "Address changed: valid_to") in [(who, what) for _, who, what in rows]
    assert ("Sam", "Address created") in [(who, what) for _, who, what in rows]
    assert ("Ines", "Person created") in [(who, what) for _, who, what in rows]


def test_the_history_is_one_list_newest_first(ines):
    person_id = _create(ines)
    ines.patch(
        f"/api/v1/persons/{person_id}/",
        {"middle_name": "Ray"},
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    _post(ines, person_id, "names", {"kind": "nickname", "first_name": "Jay"})
    what = _what(ines.get(f"/people/{person_id}/").content.decode())
    assert what.index("Name (Nickname) created") < what.index("Person changed: middle_name")
    assert what.index("Person changed: middle_name") < what.index("Person created")
    assert what[-1] == "Person created"


def test_an_ssn_never_appears_unmasked_in_the_page(ines):
    person_id = _create(ines, ssn="123-45-6789")
    _post(ines, person_id, "identifiers", {"kind": "ssn", "value": "987-65-4321"})
    page = ines.get(f"/people/{person_id}/").content.decode()
    what = " / ".join(_what(page))
    assert "***-**-4321" in what
    assert "Identifier (Social Security number ***-**-4321) changed: last4" in what
    for shown in ("123-45-6789", "123456789", "123-45", "987-65-4321", "987654321", "987-65"):
        assert shown not in page
    # In the History's who and what, no run of the SSN's first five digits, in any format.
    history = re.sub(r"\D", "", " ".join(f"{who} {what}" for _, who, what in _history(page)))
    assert "12345" not in history and "98765" not in history
