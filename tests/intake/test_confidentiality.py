"""Reporter identity is seen by intake roles only, everywhere a report is shown."""

from __future__ import annotations

import json

import pytest

from kinfolk.core.models import AccessGrant, AuditEvent

SECRETS = ("Pat Teacher", "555-201-3344")


def _assign(report, personas, client_for):
    client_for(personas["sam"]).post(
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        content_type="application/json",
        headers={"If-Match": f'"{report["version"]}"'},
    )


def _surfaces(client, report_id):
    yield client.get(f"/api/v1/reports/{report_id}/").content.decode()
    yield client.get("/api/v1/reports/").content.decode()
    yield client.get("/api/v1/reports/queue/").content.decode()
    yield client.get(f"/reports/{report_id}/").content.decode()
    yield client.get("/reports/").content.decode()
    yield client.get("/").content.decode()


@pytest.mark.parametrize("who", ["ines", "sam", "audrey"])
def test_non_intake_roles_never_see_the_reporter(approved, personas, client_for, who):
    report = approved()
    _assign(report, personas, client_for)
    client = client_for(personas[who])
    for body in _surfaces(client, report["id"]):
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
