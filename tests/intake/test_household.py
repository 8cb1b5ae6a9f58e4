"""A report's household: picked by the worker or derived from the people named, and used to
find related reports."""

from __future__ import annotations

import pytest

from kinfolk.intake.models import Report
from kinfolk.people import services as people_services
from tests.intake.conftest import report_body


@pytest.fixture
def family(personas, org, person_in):
    """Two children and their father, all members of one household in Adams North."""
    mila = person_in("ADM-N", first_name="Mila", last_name="Ortega")
    leo = person_in("ADM-N", first_name="Leo", last_name="Ortega")
    ramon = person_in("ADM-N", first_name="Ramon", last_name="Ortega")
    home = people_services.household_create(
        user=personas["hana"],
        org_unit=org["ADM-N"],
        label="Ortega home",
        members=[(mila, "child"), (leo, "child"), (ramon, "head")],
    )
    return {"c1": mila, "c2": leo, "p1": ramon, "home": home}


def _people(family, *refs):
    roles = {"c1": "alleged_victim", "c2": "alleged_victim", "p1": "alleged_perpetrator"}
    return [{"ref": r, "role": roles[r], "person": str(family[r].pk)} for r in refs]


def _file(client, **over):
    return client.post("/api/v1/reports/", report_body(**over), content_type="application/json")


def test_the_household_every_named_person_shares_is_recorded(personas, client_for, family):
    response = _file(client_for(personas["hana"]), people=_people(family, "c1", "c2", "p1"))
    assert response.status_code == 201
    assert response.json()["household"] == str(family["home"].pk)


def test_a_worker_may_name_the_household(personas, client_for, family, person_in):
    stranger = person_in("ADM-N", first_name="Tess", last_name="Moore")
    people = [
        *_people(family, "c1", "c2"),
        {"ref": "p1", "role": "alleged_perpetrator", "person": str(stranger.pk)},
    ]
    client = client_for(personas["hana"])
    derived = _file(client, people=people).json()
    assert derived["household"] is None  # the stranger is not in the Ortega home
    named = _file(client, people=people, household=str(family["home"].pk)).json()
    assert named["household"] == str(family["home"].pk)


def test_an_unknown_household_is_a_field_error(personas, client_for, family):
    response = _file(
        client_for(personas["hana"]),
        people=_people(family, "c1", "c2", "p1"),
        household="00000000-0000-0000-0000-000000000000",
    )
    assert response.status_code == 400 and "household" in response.json()["fields"]
    assert not Report.objects.exists()


def test_a_report_about_the_household_is_related_even_for_another_child(
    personas, client_for, family, person_in
):
    client = client_for(personas["hana"])
    first = _file(
        client, people=_people(family, "c1", "p1"), allegations=[report_body()["allegations"][0]]
    ).json()
    # A new call about Leo alone: a different child, but the same household.
    api = client.get(
        "/api/v1/reports/prior-history/",
        {"person": str(family["c2"].pk), "household": str(family["home"].pk)},
    ).json()
    assert [r["id"] for r in api["related_open_reports"]] == [first["id"]]
    panel = client.get("/intake/history/", {"child1_person": str(family["c2"].pk)})
    text = panel.content.decode()
    assert first["number"] in text and "Ortega home" in text
    assert f'name="household" value="{family["home"].pk}"' in text
