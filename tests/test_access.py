"""The access rule, role by role and reason by reason, through the public API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.core import access
from kinfolk.core.models import AccessGrant, Assignment, AuditEvent, BreakGlass, OrgUnit, Role
from kinfolk.intake import services as intake

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


# --- Every role: one thing it may do, one thing it may not ------------------------------------
#
# role, persona, action, where the record lies ("assigned": outside scope but assigned to the
# persona; "restricted": in scope but restricted; None: the action concerns no record).
# Where an endpoint serves the action the case goes through the API; the roles whose work
# (referrals, outcomes) has no endpoint yet are held to the rule itself, ``access.can_access``.
ALLOWED = [
    ("hotline_worker", "hana", "report.view", "CED-1"),  # statewide intake
    ("hotline_supervisor", "hector", "person.update", "BAK-1"),
    ("investigator", "ines", "person.update", "ADM-N"),
    ("case_worker", "carla", "report.view", "ADM-S"),
    ("foster_care_worker", "felix", "person.update", "ADM-N"),  # county covers its offices
    ("resource_family_worker", "rita", "person.view", "BAK-1"),  # circuit covers its counties
    ("supervisor", "sam", "report.view", "ADM-S"),
    ("office_manager", "mona", "report.view", "BAK-1"),
    ("partner_staff", "pat", "referral.view", "assigned"),  # a referral sent to them
    ("coalition_coordinator", "cora", "referral.view", "CED-1"),
    ("analyst", "ana", "outcomes.view", "CED-1"),
    ("administrator", "adam", "user.manage", None),
    ("auditor", "audrey", "audit.view", None),
]
DENIED = [
    ("hotline_worker", "hana", "person.view", "restricted"),
    ("hotline_supervisor", "hector", "report.view", "restricted"),
    ("investigator", "ines", "report.view", "CED-1"),  # another county
    ("case_worker", "carla", "person.update", "ADM-N"),  # the other office of the county
    ("foster_care_worker", "felix", "report.view", "ADM-N"),  # in scope, role lacks it
    ("resource_family_worker", "rita", "person.view", "CED-1"),  # another circuit
    ("supervisor", "sam", "person.view", "CED-1"),
    ("office_manager", "mona", "person.update", "BAK-1"),  # in scope, role lacks it
    ("partner_staff", "pat", "person.view", "assigned"),  # assigned, role lacks it
    ("coalition_coordinator", "cora", "report.view", "ADM-N"),
    ("analyst", "ana", "person.view", "ADM-N"),
    ("administrator", "adam", "audit.view", None),
    ("auditor", "audrey", "user.manage", None),
]


def test_the_role_tables_cover_every_role_in_the_policy(personas):
    every_role = set(Role.objects.values_list("code", flat=True))
    assert {row[0] for row in ALLOWED} == every_role
    assert {row[0] for row in DENIED} == every_role
    for role, who, *_ in ALLOWED + DENIED:
        assert access.role_codes(personas[who]) == {role}


@pytest.fixture
def record_for(personas, person_in):
    """A person or report lying where a table row says, for the persona of that row."""

    def make(who, action, where):
        unit = "CED-1" if where == "assigned" else ("ADM-N" if where == "restricted" else where)
        if action.startswith("report."):
            record = _report_in(personas["hana"], unit)
        else:
            record = person_in(unit)
        if where == "restricted":
            type(record).objects.filter(pk=record.pk).update(restricted=True)
            record.refresh_from_db()
        if where == "assigned":
            Assignment.objects.create(
                user=personas[who], record_type=record.RECORD_TYPE, record_id=record.pk
            )
        return record

    return make


def _report_in(hotline_worker, unit):
    return intake.report_file(
        user=hotline_worker,
        org_unit=OrgUnit.objects.get(code=unit),
        received_at=timezone.now() - timedelta(minutes=5),
        channel="phone",
        narrative="Synthetic report for an access test.",
        reporter={"source": "5"},
        people=[
            intake.PersonEntry(
                role="alleged_victim",
                ref="c1",
                confirmed_new=True,
                values={"first_name": "Test", "last_name": f"Child {unit}"},
            )
        ],
        allegations=[{"child": "c1", "maltreatment_type": "2"}],
    )


def _attempt(client, user, action, record):
    """Do ``action`` as the user would and return the HTTP status (or the rule's decision)."""
    if action == "user.manage":
        return client.get("/api/v1/users/").status_code
    if action == "audit.view":
        return client.get("/api/v1/audit/?record_type=person").status_code
    if action == "report.view":
        return client.get(f"/api/v1/reports/{record.pk}/").status_code
    if action == "person.view":
        return client.get(f"/api/v1/persons/{record.pk}/").status_code
    if action == "person.update":
        return client.patch(
            f"/api/v1/persons/{record.pk}/",
            {"tribal_affiliation": "Osage"},
            content_type="application/json",
            headers={"If-Match": f'"{record.version}"'},
        ).status_code
    return 200 if access.can_access(user, record, action).allowed else 404


@pytest.mark.parametrize(("role", "who", "action", "where"), ALLOWED, ids=[r[0] for r in ALLOWED])
def test_each_role_may_do_its_work_on_a_record_in_its_reach(
    personas, client_for, record_for, role, who, action, where
):
    user = personas[who]
    record = record_for(who, action, where) if where else None
    assert access.has_permission(user, action)
    assert _attempt(client_for(user), user, action, record) == 200


@pytest.mark.parametrize(("role", "who", "action", "where"), DENIED, ids=[r[0] for r in DENIED])
def test_each_role_is_refused_outside_its_reach_or_its_permissions(
    personas, client_for, record_for, role, who, action, where
):
    user = personas[who]
    record = record_for(who, action, where) if where else None
    status = _attempt(client_for(user), user, action, record)
    if record is None:
        assert status == 403  # no record involved: the role simply lacks the action
        return
    assert status == 404  # a record the user may not touch looks like a missing one
    assert not access.can_access(user, record, action).allowed
    if action == "person.update":
        record.refresh_from_db()
        assert (record.version, record.tribal_affiliation) == (1, "")
    if action in {"person.view", "report.view"}:  # a refused read is itself audited
        assert AuditEvent.objects.filter(
            record_id=str(record.pk), action="denied", username=who
        ).exists()


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
