"""A later call about a family whose report is being answered joins that response."""

from __future__ import annotations

import pytest

from kinfolk.core.models import AuditEvent
from kinfolk.intake.models import Report, ReportPerson
from tests.intake.conftest import report_body


def _victims(report):
    return [p["person"]["id"] for p in report["people"] if p["role"] == "alleged_victim"]


def _second_call(file_report, first, *, new_child=False, **extra):
    people = [{"ref": "c1", "role": "alleged_victim", "person": _victims(first)[0]}]
    allegations = [{"child": "c1", "maltreatment_type": "2"}]
    if new_child:
        people.append(
            {
                "ref": "c3",
                "role": "alleged_victim",
                "first_name": "Tomasz",
                "last_name": "Wieczorek",
                "date_of_birth": "2021-08-14",
                "sex": "1",
                "confirmed_new": True,
            }
        )
        allegations.append({"child": "c3", "maltreatment_type": "2"})
    return file_report(people=people, allegations=allegations, linked_to=first["id"], **extra)


def test_an_added_call_is_not_screened_again_and_its_children_join_the_response(
    file_report, approved
):
    first = approved()
    second = _second_call(file_report, first, new_child=True)
    assert second["status"] == "added" and second["linked_to"] == first["id"]
    target = Report.objects.get(pk=first["id"])
    # The new child is on the open report, with its clock, next to the children named before.
    names = {p.person.first_name for p in ReportPerson.objects.filter(report=target)}
    assert "Tomasz" in names
    assert target.version == first["version"] + 1
    assert AuditEvent.objects.filter(
        record_id=str(target.pk), action="update", detail__additional_report=second["id"]
    ).exists()


def test_the_added_call_keeps_its_own_number_reporter_and_allegations(file_report, approved):
    first = approved()
    second = _second_call(file_report, first)
    added = Report.objects.get(pk=second["id"])
    assert added.number != first["number"]
    assert added.allegations.count() == 1 and hasattr(added, "reporter")
    assert [e.move for e in added.events.all()] == ["file", "add_to"]


def test_an_added_call_cannot_be_screened_on_its_own(file_report, approved, personas, client_for):
    first = approved()
    second = _second_call(file_report, first)
    response = client_for(personas["hana"]).post(
        f"/api/v1/reports/{second['id']}/screen/",
        {"decision": "in", "narrative": "Screening it again."},
        content_type="application/json",
    )
    assert response.status_code in (400, 409)
    assert Report.objects.get(pk=second["id"]).status == "added"


@pytest.mark.parametrize("stage", ["submitted", "screened_out_and_closed"])
def test_only_a_screened_in_open_report_takes_additional_calls(
    file_report, personas, client_for, stage
):
    first = file_report()
    if stage == "screened_out_and_closed":
        client_for(personas["hana"]).post(
            f"/api/v1/reports/{first['id']}/screen/",
            {"decision": "out", "reason": "no_maltreatment", "narrative": "No maltreatment."},
            content_type="application/json",
        )
        client_for(personas["hector"]).post(
            f"/api/v1/reports/{first['id']}/approve/", {}, content_type="application/json"
        )
    before = Report.objects.count()
    people = [{"ref": "c1", "role": "alleged_victim", "person": _victims(first)[0]}]
    body_extra = {
        "people": people,
        "allegations": [{"child": "c1", "maltreatment_type": "2"}],
        "linked_to": first["id"],
    }
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", report_body(**body_extra), content_type="application/json"
    )
    assert response.status_code == 400
    assert "linked_to" in response.json()["fields"]
    assert Report.objects.count() == before


def test_both_report_pages_say_how_they_are_joined(file_report, approved, personas, client_for):
    first = approved()
    second = _second_call(file_report, first)
    hector = client_for(personas["hector"])
    open_page = hector.get(f"/reports/{first['id']}/").content.decode()
    assert "Additional reports" in open_page and second["number"] in open_page
    added_page = hector.get(f"/reports/{second['id']}/").content.decode()
    assert "added to open report" in added_page and first["number"] in added_page
