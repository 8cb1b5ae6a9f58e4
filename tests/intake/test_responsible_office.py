"""The responsible office follows the family: where their registry records are kept."""

from __future__ import annotations

from kinfolk.intake.models import Report
from tests.intake.conftest import report_body


def _file_without_office(client, people):
    body = report_body(people=people)
    body.pop("org_unit")
    return client.post("/api/v1/reports/", body, content_type="application/json")


def _known_child(person, ref="c1"):
    return {"ref": ref, "role": "alleged_victim", "person": str(person.pk)}


def test_a_report_about_a_known_child_goes_to_the_office_that_keeps_their_record(
    personas, person_in, client_for
):
    child = person_in("CED-1")
    parent = next(p for p in report_body()["people"] if p["ref"] == "p1")
    people = [_known_child(child), parent | {"confirmed_new": True}]
    body_allegations = [{"child": "c1", "perpetrator": "p1", "maltreatment_type": "2"}]
    body = report_body(people=people, allegations=body_allegations)
    body.pop("org_unit")
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["org_unit"]["code"] == "CED-1"


def test_a_record_kept_at_a_county_with_one_office_gives_that_office(
    personas, person_in, client_for
):
    child = person_in("BAK")
    allegations = [{"child": "c1", "maltreatment_type": "2"}]
    body = report_body(people=[_known_child(child)], allegations=allegations)
    body.pop("org_unit")
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["org_unit"]["code"] == "BAK-1"


def test_a_call_about_strangers_to_the_registry_must_name_the_office(personas, client_for):
    new_people = [p | {"confirmed_new": True} for p in report_body()["people"]]
    response = _file_without_office(client_for(personas["hana"]), new_people)
    assert response.status_code == 400
    assert "org_unit" in response.json()["fields"]
    assert Report.objects.count() == 0


def test_an_office_given_by_the_worker_wins(personas, person_in, client_for):
    child = person_in("CED-1")
    allegations = [{"child": "c1", "maltreatment_type": "2"}]
    body = report_body(people=[_known_child(child)], allegations=allegations, org_unit="ADM-N")
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["org_unit"]["code"] == "ADM-N"
