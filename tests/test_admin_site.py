"""The Django admin: administrators edit reference data there, audited; nobody else gets in."""

from __future__ import annotations

from django.contrib import admin

from kinfolk.core import services as core
from kinfolk.core.models import AuditEvent, OrgUnit, RoleAssignment

CASE_APPS = {"people", "intake", "assessments", "cases", "placements", "partners"}


def _change_form(unit: OrgUnit, **values):
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": str(unit.parent_id) if unit.parent_id else "",
    } | values


def test_an_administrator_reaches_the_org_units_in_the_admin(personas, client_for):
    response = client_for(personas["adam"]).get("/django-admin/core/orgunit/")
    assert response.status_code == 200
    assert "Adams County" in response.content.decode()


def test_a_hotline_worker_does_not_get_into_the_admin(personas, client_for):
    response = client_for(personas["hana"]).get("/django-admin/core/orgunit/")
    assert response.status_code == 302
    assert "/django-admin/login/" in response["Location"]


def test_an_administrator_role_makes_a_user_staff_and_removing_it_undoes_that(personas):
    adam = personas["adam"]
    adam.refresh_from_db()
    assert adam.is_staff and not adam.is_superuser
    assignment = RoleAssignment.objects.get(user=adam, role="administrator")
    core.role_revoke(by=personas["adam"], assignment=assignment)
    adam.refresh_from_db()
    assert not adam.is_staff


def test_other_roles_are_not_staff(personas):
    assert not any(u.is_staff for name, u in personas.items() if name != "adam")


def test_saving_an_org_unit_in_the_admin_writes_an_audit_row(personas, client_for):
    unit = OrgUnit.objects.get(code="ADM-N")
    response = client_for(personas["adam"]).post(
        f"/django-admin/core/orgunit/{unit.pk}/change/",
        _change_form(unit, name="Adams North Field Office"),
    )
    assert response.status_code == 302
    row = AuditEvent.objects.get(record_type="org_unit", action="update")
    assert row.username == "adam"
    assert row.record_id == str(unit.pk)
    assert row.fields == ["name"]
    assert row.detail["via"] == "django-admin"


def test_moving_a_unit_in_the_admin_carries_its_subtree(personas, client_for):
    unit = OrgUnit.objects.get(code="ADM")
    c2 = OrgUnit.objects.get(code="C2")
    response = client_for(personas["adam"]).post(
        f"/django-admin/core/orgunit/{unit.pk}/change/", _change_form(unit, parent=str(c2.pk))
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(code="ADM-S").path == "/DS/R1/C2/ADM/ADM-S/"


def test_the_admin_refuses_moving_a_unit_under_its_own_office(personas, client_for):
    unit = OrgUnit.objects.get(code="ADM")
    office = OrgUnit.objects.get(code="ADM-N")
    response = client_for(personas["adam"]).post(
        f"/django-admin/core/orgunit/{unit.pk}/change/", _change_form(unit, parent=str(office.pk))
    )
    assert response.status_code == 200
    assert "cannot sit inside itself" in response.content.decode()
    assert OrgUnit.objects.get(code="ADM").path == "/DS/R1/C1/ADM/"
    assert not AuditEvent.objects.filter(record_type="org_unit").exists()


def test_deleting_an_org_unit_in_the_admin_writes_an_audit_row(personas, client_for):
    unit = core.org_unit_create(
        code="ADM-X", name="Closed Office", kind="office", parent=OrgUnit.objects.get(code="ADM")
    )
    response = client_for(personas["adam"]).post(
        f"/django-admin/core/orgunit/{unit.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not OrgUnit.objects.filter(code="ADM-X").exists()
    assert AuditEvent.objects.filter(
        record_type="org_unit", action="delete", record_id=str(unit.pk)
    ).exists()


def test_the_admin_holds_reference_data_only(db):
    registered = {model._meta.label for model in admin.site._registry}
    assert {"core.OrgUnit", "core.Role"} <= registered
    assert not {label for label in registered if label.split(".")[0] in CASE_APPS}
    # Users, their roles and supervision change on the users page, through the services.
    assert not {"core.User", "core.RoleAssignment", "core.Supervision"} & registered
