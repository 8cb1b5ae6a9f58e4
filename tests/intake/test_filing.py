"""Filing a report through the API: the happy path, idempotency, duplicates and bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.core.models import AuditEvent
from kinfolk.intake.models import Allegation, Report, ReportDraft, ReportEvent
from kinfolk.people.models import Person
from tests.intake.conftest import report_body


def _counts():
    return Report.objects.count(), Person.objects.count(), Allegation.objects.count()


def test_a_hotline_worker_files_a_report_with_two_children(file_report):
    report = file_report()
    assert report["status"] == "submitted"
    assert {p["role"] for p in report["people"]} == {"alleged_victim", "alleged_perpetrator"}
    assert len(report["allegations"]) == 2
    assert report["reporter"]["name"] == "Pat Teacher"
    assert ReportEvent.objects.get().move == "file"


def test_the_audit_row_for_filing_carries_no_names_or_narrative(file_report):
    report = file_report()
    row = AuditEvent.objects.get(action="create", record_type="report")
    text = json.dumps(row.detail) + " ".join(row.fields)
    assert row.record_id == report["id"]
    assert "Pat Teacher" not in text and "bruises" not in text and "Ortega" not in text


def test_a_retried_post_files_once(personas, client_for):
    client = client_for(personas["hana"])
    body = report_body()
    first = client.post(
        "/api/v1/reports/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "call-8812"},
    )
    again = client.post(
        "/api/v1/reports/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "call-8812"},
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Report.objects.count() == 1


def test_an_existing_registry_person_is_linked_not_copied(personas, person_in, client_for):
    child = person_in("ADM-N", first_name="Mila", last_name="Ortega")
    people = report_body()["people"]
    people[0] = {"ref": "c1", "role": "alleged_victim", "person": str(child.pk)}
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", report_body(people=people), content_type="application/json"
    )
    assert response.status_code == 201
    assert Person.objects.filter(first_name="Mila").count() == 1


def test_a_new_person_who_looks_known_needs_confirmation(personas, person_in, client_for):
    from datetime import date

    known = person_in(
        "CED-1", first_name="Mila", last_name="Ortega", date_of_birth=date(2016, 5, 4)
    )
    client = client_for(personas["hana"])
    response = client.post("/api/v1/reports/", report_body(), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert body["candidates"]["people[0]"][0]["id"] == str(known.pk)
    assert Report.objects.count() == 0
    people = report_body()["people"]
    people[0]["confirmed_new"] = True
    confirmed = client.post(
        "/api/v1/reports/", report_body(people=people), content_type="application/json"
    )
    assert confirmed.status_code == 201
    assert AuditEvent.objects.filter(detail__confirmed_not_duplicate=True).exists()


def _future(days=1):
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        (
            {
                "people": [
                    {
                        "ref": "p1",
                        "role": "alleged_perpetrator",
                        "first_name": "A",
                        "last_name": "B",
                    }
                ],
                "allegations": [{"child": "p1", "maltreatment_type": "1"}],
            },
            "people",
        ),
        ({"allegations": [{"maltreatment_type": "1"}]}, "allegations"),
        ({"allegations": [{"child": "c1"}]}, "allegations"),
        ({"allegations": []}, "allegations"),
        ({"allegations": [{"child": "zz", "maltreatment_type": "1"}]}, "allegations[0].child"),
        (
            {
                "allegations": [
                    {
                        "child": "c1",
                        "maltreatment_type": "1",
                        "incident_date": str(timezone.localdate() + timedelta(days=2)),
                    }
                ]
            },
            "allegations[0].incident_date",
        ),
        ({"received_at": _future()}, "received_at"),
        ({"channel": "pigeon"}, "channel"),
        ({"reporter": {"source": "77"}}, "reporter"),
        ({"allegations": [{"child": "c1", "maltreatment_type": "6"}]}, "allegations"),
        ({"narrative": "x" * 20001}, "narrative"),
        ({"narrative": "bad\x00byte"}, "narrative"),
        ({"org_unit": "NOWHERE"}, "org_unit"),
        ({"surprise": 1}, "surprise"),
        ({"people": "everyone"}, "people"),
        ({"linked_to": "00000000-0000-0000-0000-000000000000"}, "linked_to"),
    ],
)
def test_bad_reports_are_refused_field_by_field_and_nothing_is_saved(
    personas, client_for, override, field
):
    before = _counts()
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", report_body(**override), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert any(k == field or k.startswith(field) for k in response.json()["fields"]), (
        response.json()
    )
    assert _counts() == before


@pytest.mark.parametrize("raw", ["{", "[]", "null", "1"])
def test_malformed_json_files_nothing(personas, client_for, raw):
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "text", ["<script>alert(1)</script>", "'; DROP TABLE intake_report;--", "Zoë \u202e and 👩‍👧"]
)
def test_hostile_narratives_are_stored_verbatim_and_escaped(personas, client_for, text):
    client = client_for(personas["hana"])
    report = client.post(
        "/api/v1/reports/", report_body(narrative=text), content_type="application/json"
    ).json()
    assert Report.objects.get(pk=report["id"]).narrative == text
    response = client.get(f"/reports/{report['id']}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert "What happened" in page


def test_only_intake_roles_file_reports(personas, client_for):
    response = client_for(personas["ines"]).post(
        "/api/v1/reports/", report_body(), content_type="application/json"
    )
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_drafts_save_and_come_back(personas, client_for):
    client = client_for(personas["hana"])
    saved = client.put(
        "/api/v1/reports/drafts/call-1/",
        {"data": {"narrative": "half typed"}},
        content_type="application/json",
    )
    assert saved.status_code == 200
    assert client.get("/api/v1/reports/drafts/call-1/").json()["data"] == {
        "narrative": "half typed"
    }
    client.post(
        "/api/v1/reports/", report_body(draft_key="call-1"), content_type="application/json"
    )
    assert not ReportDraft.objects.exists()


def test_drafts_are_private_to_their_author(personas, client_for):
    client_for(personas["hana"]).put(
        "/api/v1/reports/drafts/k/", {"data": {"a": 1}}, content_type="application/json"
    )
    assert client_for(personas["hector"]).get("/api/v1/reports/drafts/k/").status_code == 404


def test_an_oversized_draft_is_refused(personas, client_for):
    response = client_for(personas["hana"]).put(
        "/api/v1/reports/drafts/k/", {"data": {"a": "x" * 200_000}}, content_type="application/json"
    )
    assert response.status_code == 400
