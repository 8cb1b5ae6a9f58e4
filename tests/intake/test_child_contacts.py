"""First contact per child: who met them, and whether it was within the response time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.intake.models import ChildContact, Report


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def assigned(approved, personas, client_for):
    report = approved()
    client_for(personas["sam"]).post(
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        content_type="application/json",
        headers={"If-Match": f'"{report["version"]}"'},
    )
    report["children"] = [
        p["person"]["id"] for p in report["people"] if p["role"] == "alleged_victim"
    ]
    return report


def test_a_supervisor_records_a_contact_the_investigator_made(assigned, personas, client_for):
    seen = (timezone.now() - timedelta(minutes=5)).isoformat()
    response = _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{assigned['id']}/contacts/",
        {
            "child": assigned["children"][0],
            "contact_at": seen,
            "location": "School",
            "made_by": "ines",
        },
    )
    assert response.status_code == 201, response.content
    contact = response.json()["contacts"][0]
    assert (contact["made_by"], contact["recorded_by"], contact["on_time"]) == ("ines", "sam", True)
    assert ChildContact.objects.get().made_by == personas["ines"]


def test_the_contact_maker_must_work_for_the_office(assigned, personas, client_for):
    response = _post(
        client_for(personas["ines"]),
        f"/api/v1/reports/{assigned['id']}/contacts/",
        {
            "child": assigned["children"][0],
            "contact_at": timezone.now().isoformat(),
            "location": "School",
            "made_by": "ivan",
        },
    )
    assert response.status_code == 400 and "made_by" in response.json()["fields"]
    assert not ChildContact.objects.exists()


def test_each_child_shows_on_time_or_late_on_the_report_page(assigned, personas, client_for):
    ines = client_for(personas["ines"])
    url = f"/api/v1/reports/{assigned['id']}/contacts/"
    _post(
        ines,
        url,
        {
            "child": assigned["children"][0],
            "contact_at": timezone.now().isoformat(),
            "location": "School",
        },
    )
    # Make the report's deadline already past, then record the second child: late.
    report = Report.objects.get()
    Report.objects.filter(pk=report.pk).update(
        received_at=timezone.now() - timedelta(days=3),
        response_due_at=timezone.now() - timedelta(minutes=30),
    )
    ChildContact.objects.update(contact_at=timezone.now() - timedelta(hours=2))
    late = _post(
        ines,
        url,
        {
            "child": assigned["children"][1],
            "contact_at": timezone.now().isoformat(),
            "location": "Home",
        },
    )
    assert [c["on_time"] for c in late.json()["contacts"]] == [True, False]
    page = ines.get(f"/reports/{assigned['id']}/").content.decode()
    assert "First contact, child by child" in page
    assert "<strong>On time</strong>" in page and "<strong>Late</strong>" in page


def test_a_contact_made_by_someone_else_is_recorded_from_the_page(assigned, personas, client_for):
    sam = client_for(personas["sam"])
    page = sam.get(f"/reports/{assigned['id']}/").content.decode()
    assert 'value="ines"' in page
    sam.post(
        f"/reports/{assigned['id']}/contact/",
        {
            "child": assigned["children"][0],
            "location": "School",
            "made_by": "ines",
            "contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert ChildContact.objects.get().made_by == personas["ines"]
