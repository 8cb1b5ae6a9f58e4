"""Reporter identity is seen by intake roles only, everywhere a report is shown."""

from __future__ import annotations

import json

import pytest

from kinfolk.core.models import AccessGrant, AuditEvent

SECRETS = ("Pat Teacher", "555-201-3344")


def _assign(report, personas, client_for):
    return client_for(personas["sam"]).post(
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        content_type="application/json",
        headers={"If-Match": f'"{report["version"]}"'},
    )


def _surfaces(client, report_id, people=()):
    yield client.get(f"/api/v1/reports/{report_id}/").content.decode()
    yield client.get("/api/v1/reports/").content.decode()
    yield client.get("/api/v1/reports/queue/").content.decode()
    yield client.get(f"/reports/{report_id}/").content.decode()
    yield client.get("/reports/").content.decode()
    yield client.get("/").content.decode()
    # Prior history, as the API and the intake page's panel show it.
    yield client.get("/api/v1/reports/prior-history/", {"person": list(people)}).content.decode()
    yield client.get(
        "/intake/history/", {f"child{i}_person": p for i, p in enumerate(people, 1)}
    ).content.decode()


@pytest.mark.parametrize("who", ["ines", "sam", "audrey"])
def test_non_intake_roles_never_see_the_reporter(approved, personas, client_for, who):
    report = approved()
    assigned = _assign(report, personas, client_for)
    client = client_for(personas[who])
    people = [p["person"]["id"] for p in report["people"]]
    for body in _surfaces(client, report["id"], people):
        for secret in SECRETS:
            assert secret not in body
    # The answers to the lifecycle actions non-intake roles take (assign, contact).
    child = next(p["person"]["id"] for p in report["people"] if p["role"] == "alleged_victim")
    contact = client_for(personas["ines"]).post(
        f"/api/v1/reports/{report['id']}/contacts/",
        {"child": child, "contact_at": report["received_at"], "location": "School"},
        content_type="application/json",
    )
    assert assigned.status_code == 200 and contact.status_code == 201, contact.content
    for body in (assigned.content.decode(), contact.content.decode()):
        for secret in SECRETS:
            assert secret not in body
    if who == "audrey":
        trail = client.get("/api/v1/audit/?limit=500").content.decode()
        page = client.get("/audit/").content.decode()
        for secret in SECRETS:
            assert secret not in trail and secret not in page


def test_the_assigned_investigator_reads_the_report_without_reporter(
    approved, personas, client_for
):
    report = approved()
    _assign(report, personas, client_for)
    body = client_for(personas["ines"]).get(f"/api/v1/reports/{report['id']}/").json()
    assert "reporter" not in body and body["narrative"]


def test_intake_roles_see_the_reporter(approved, personas, client_for):
    report = approved()
    body = client_for(personas["hector"]).get(f"/api/v1/reports/{report['id']}/").json()
    assert body["reporter"]["name"] == "Pat Teacher"
    page = client_for(personas["hector"]).get(f"/reports/{report['id']}/").content.decode()
    assert "Pat Teacher" in page


def test_a_grant_opens_the_reporter_to_one_investigator(approved, personas, client_for):
    report = approved()
    _assign(report, personas, client_for)
    AccessGrant.objects.create(
        user=personas["ines"],
        record_type="reporter",
        record_id=report["id"],
        granted_by=personas["adam"],
        reason="court subpoena",
    )
    body = client_for(personas["ines"]).get(f"/api/v1/reports/{report['id']}/").json()
    assert body["reporter"]["name"] == "Pat Teacher"


def test_no_audit_row_carries_reporter_identity(approved):
    approved()
    rows = json.dumps(list(AuditEvent.objects.values("detail", "fields", "reason")), default=str)
    for secret in SECRETS:
        assert secret not in rows


def test_screen_and_approve_answers_carry_the_reporter_only_to_intake_roles(
    file_report, personas, client_for
):
    report = file_report()
    screened = client_for(personas["hana"]).post(
        f"/api/v1/reports/{report['id']}/screen/",
        {"decision": "in", "narrative": "Bruises seen by a teacher."},
        content_type="application/json",
    )
    approved = client_for(personas["hector"]).post(
        f"/api/v1/reports/{report['id']}/approve/", {}, content_type="application/json"
    )
    # Both callers are hotline staff: they may see who called.
    assert screened.json()["reporter"]["name"] == approved.json()["reporter"]["name"]
    grant_free = client_for(personas["sam"]).get(f"/api/v1/reports/{report['id']}/")
    assert "reporter" not in grant_free.json()


def test_the_change_history_on_the_report_page_never_shows_the_reporter(
    approved, personas, client_for
):
    report = approved()
    _assign(report, personas, client_for)
    page = client_for(personas["ines"]).get(f"/reports/{report['id']}/").content.decode()
    assert "Change history" in page and "Sam: assigned at, assigned to, status" in page
    for secret in SECRETS:
        assert secret not in page
