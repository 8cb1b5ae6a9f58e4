"""The access rule, role by role and reason by reason, through the public API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.core import access
from kinfolk.core.models import AccessGrant, Assignment, AuditEvent, BreakGlass

# persona, a unit whose people they may open (None: none), a unit whose people they may not
ROLE_TABLE = [
    ("hana", "CED-1", None),  # hotline: statewide
    ("hector", "BAK-1", None),
    ("ines", "ADM-N", "CED-1"),
    ("ivan", "CED-1", "ADM-N"),
    ("carla", "ADM-S", "ADM-N"),
    ("felix", "ADM-N", "BAK-1"),  # county scope covers its offices
    ("rita", "BAK-1", "CED-1"),  # circuit scope covers its counties
    ("sam", "ADM-S", "CED-1"),
    ("mona", "BAK-1", "ADM-N"),
    ("pat", None, "ADM-N"),  # partner staff never see registry records
    ("cora", None, "ADM-N"),
    ("ana", None, "ADM-N"),
    ("adam", None, "ADM-N"),
    ("audrey", None, "ADM-N"),
]


@pytest.mark.parametrize(("who", "allowed_unit", "denied_unit"), ROLE_TABLE)
def test_each_role_sees_exactly_its_scope(
    personas, person_in, client_for, who, allowed_unit, denied_unit
):
    client = client_for(personas[who])
    if allowed_unit:
        allowed = person_in(allowed_unit)
        assert client.get(f"/api/v1/persons/{allowed.pk}/").status_code == 200
    # Statewide roles are refused a restricted record they hold no grant for.
    denied = person_in(denied_unit) if denied_unit else person_in("CED-1", restricted=True)
    response = client.get(f"/api/v1/persons/{denied.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_out_of_scope_and_missing_records_look_the_same(personas, person_in, client_for):
    other = person_in("CED-1")
    client = client_for(personas["ines"])
    hidden = client.get(f"/api/v1/persons/{other.pk}/")
    missing = client.get("/api/v1/persons/00000000-0000-0000-0000-000000000000/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_a_refused_read_writes_a_denied_audit_row(personas, person_in, client_for):
    other = person_in("CED-1")
    client_for(personas["ines"]).get(f"/api/v1/persons/{other.pk}/")
    row = AuditEvent.objects.get(record_id=str(other.pk))
    assert row.action == "denied"
    assert row.username == "ines"
    assert row.detail["why"] == "outside the user's scope"


def test_an_assigned_worker_sees_a_record_outside_their_scope(personas, person_in, client_for):
    other = person_in("CED-1")
    Assignment.objects.create(user=personas["ines"], record_type="person", record_id=other.pk)
    assert client_for(personas["ines"]).get(f"/api/v1/persons/{other.pk}/").status_code == 200


def test_an_ended_assignment_no_longer_opens_the_record(personas, person_in, client_for):
    other = person_in("CED-1")
    Assignment.objects.create(
        user=personas["ines"], record_type="person", record_id=other.pk, ended_at=timezone.now()
    )
    assert client_for(personas["ines"]).get(f"/api/v1/persons/{other.pk}/").status_code == 404


def test_a_supervisor_sees_what_their_supervisee_is_assigned(personas, person_in, client_for):
    other = person_in("CED-1")
    client = client_for(personas["sam"])
    assert client.get(f"/api/v1/persons/{other.pk}/").status_code == 404
    Assignment.objects.create(user=personas["ines"], record_type="person", record_id=other.pk)
    assert client.get(f"/api/v1/persons/{other.pk}/").status_code == 200


def test_a_restricted_record_needs_an_explicit_grant_even_in_scope(personas, person_in, client_for):
    employee_child = person_in("ADM-N", restricted=True)
    client = client_for(personas["ines"])
    assert client.get(f"/api/v1/persons/{employee_child.pk}/").status_code == 404
    AccessGrant.objects.create(
        user=personas["ines"],
        record_type="person",
        record_id=employee_child.pk,
        granted_by=personas["adam"],
        reason="assigned investigator",
    )
    assert client.get(f"/api/v1/persons/{employee_child.pk}/").status_code == 200


def test_a_restricted_record_is_missing_from_search_without_a_grant(
    personas, person_in, client_for
):
    person_in("ADM-N", first_name="Quinlan", last_name="Restrepo", restricted=True)
    visible = person_in("ADM-N", first_name="Quinlan", last_name="Restrepo")
    found = client_for(personas["ines"]).get("/api/v1/persons/?q=Quinlan Restrepo").json()
    assert [r["id"] for r in found] == [str(visible.pk)]


def test_break_glass_needs_a_reason(personas, person_in, client_for):
    other = person_in("CED-1")
    response = client_for(personas["ines"]).post(
        f"/api/v1/persons/{other.pk}/break-glass/",
        {"reason": "need"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert not BreakGlass.objects.exists()


def test_break_glass_opens_the_record_for_a_limited_time_and_flags_it(
    personas, person_in, client_for
):
    other = person_in("CED-1")
    client = client_for(personas["ines"])
    response = client.post(
        f"/api/v1/persons/{other.pk}/break-glass/",
        {"reason": "Child at hospital after hours, need prior history now"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/persons/{other.pk}/").status_code == 200
    flagged = AuditEvent.objects.filter(record_id=str(other.pk), break_glass=True)
    assert {row.action for row in flagged} == {"break_glass", "view"}
    BreakGlass.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/api/v1/persons/{other.pk}/").status_code == 404


def test_break_glass_never_opens_a_restricted_record(personas, person_in, client_for):
    secret = person_in("CED-1", restricted=True)
    response = client_for(personas["ines"]).post(
        f"/api/v1/persons/{secret.pk}/break-glass/",
        {"reason": "Child at hospital after hours, need prior history now"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not BreakGlass.objects.exists()


def test_roles_without_break_glass_cannot_use_it(personas, person_in, client_for):
    other = person_in("CED-1")
    response = client_for(personas["pat"]).post(
        f"/api/v1/persons/{other.pk}/break-glass/",
        {"reason": "I would like to see this record please"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_an_inactive_user_is_refused_even_in_scope(personas, person_in):
    person = person_in("ADM-N")
    personas["ines"].is_active = False
    assert not access.can_access(personas["ines"], person, "person.view").allowed


def test_only_auditors_read_the_audit_trail(personas, client_for):
    assert client_for(personas["audrey"]).get("/api/v1/audit/").status_code == 200
    assert client_for(personas["ines"]).get("/api/v1/audit/").status_code == 403
    assert client_for(personas["adam"]).get("/audit/").status_code == 403


def test_only_administrators_manage_users(personas, client_for):
    assert client_for(personas["adam"]).get("/api/v1/users/").status_code == 200
    assert client_for(personas["audrey"]).get("/api/v1/users/").status_code == 403
    assert client_for(personas["sam"]).get("/users/").status_code == 403


def test_anonymous_requests_are_refused(db, client):
    assert client.get("/api/v1/persons/?q=smith").status_code in (401, 403)
    assert client.get("/people/").status_code == 302
