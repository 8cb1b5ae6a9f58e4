"""Pages as a worker uses them: forms with errors beside fields, conflicts, break-glass, roles."""

from __future__ import annotations

import pytest

from kinfolk.core.models import AuditEvent, BreakGlass, User
from kinfolk.people.models import Person

PERSON_FORM = {
    "first_name": "Ada",
    "last_name": "Okafor",
    "dob_precision": "exact",
    "sex": "2",
    "hispanic": "2",
}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("hana", "Find a person"),
        ("ines", "My work"),
        ("sam", "Your team"),
        ("audrey", "To review"),
        ("adam", "Manage users"),
        ("ana", "Outcomes"),
        ("pat", "Referrals to your organisation"),
    ],
)
def test_each_role_gets_its_own_home_page(personas, client_for, who, expected):
    page = client_for(personas[who]).get("/").content.decode()
    assert expected in page


def test_partner_staff_get_no_people_link(personas, client_for):
    page = client_for(personas["pat"]).get("/").content.decode()
    assert 'href="/people/"' not in page


def test_the_search_page_answers_htmx_with_just_the_results(personas, person_in, client_for):
    person_in("ADM-N", first_name="Ruby", last_name="Nakamura")
    client = client_for(personas["ines"])
    full = client.get("/people/?q=Ruby Nakamura").content.decode()
    partial = client.get(
        "/people/?q=Ruby Nakamura", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" in full and "<html" not in partial
    assert "Nakamura, Ruby" in partial


def test_adding_a_person_through_the_form(personas, client_for, org):
    client = client_for(personas["ines"])
    response = client.post("/people/new/", PERSON_FORM | {"org_unit": org["ADM-N"].pk})
    person = Person.objects.get(last_name="Okafor")
    assert response.status_code == 302 and response["Location"] == f"/people/{person.pk}/"


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"first_name": ""}, "This field is required"),
        ({"date_of_birth": "2999-01-01"}, "Cannot be in the future"),
        ({"ssn": "12"}, "Enter a valid value"),
        ({"first_name": "A\x01B"}, "control characters"),
    ],
)
def test_the_person_form_shows_errors_beside_fields_and_saves_nothing(
    personas, client_for, org, change, field_message
):
    client = client_for(personas["ines"])
    response = client.post("/people/new/", PERSON_FORM | {"org_unit": org["ADM-N"].pk} | change)
    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert 'class="field has-error' in response.content.decode()
    assert not Person.objects.exists()


def test_the_form_offers_only_units_in_the_workers_scope(personas, client_for, org):
    client = client_for(personas["ines"])
    response = client.post("/people/new/", PERSON_FORM | {"org_unit": org["CED-1"].pk})
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.exists()


def test_a_stale_edit_shows_both_versions_and_saves_nothing(personas, person_in, client_for):
    person = person_in("ADM-N", first_name="Ada", last_name="Okafor", middle_name="")
    client = client_for(personas["ines"])
    form = PERSON_FORM | {"version": 1, "middle_name": "Mine"}
    Person.objects.filter(pk=person.pk).update(middle_name="Theirs", version=2)
    response = client.post(f"/people/{person.pk}/edit/", form)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this record" in page
    assert "Theirs" in page and "Mine" in page
    person.refresh_from_db()
    assert person.middle_name == "Theirs"


def test_an_edit_saves_and_returns_to_the_record(personas, person_in, client_for):
    person = person_in("ADM-N", first_name="Ada", last_name="Okafor")
    response = client_for(personas["ines"]).post(
        f"/people/{person.pk}/edit/", PERSON_FORM | {"version": 1, "middle_name": "Grace"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.middle_name, person.version) == ("Grace", 2)


def test_out_of_scope_page_offers_break_glass_and_it_works(personas, person_in, client_for):
    other = person_in("CED-1")
    client = client_for(personas["ines"])
    page = client.get(f"/people/{other.pk}/")
    assert page.status_code == 404 and "Emergency access" in page.content.decode()
    short = client.post(f"/people/{other.pk}/break-glass/", {"reason": "now"})
    assert short.status_code == 400 and not BreakGlass.objects.exists()
    response = client.post(
        f"/people/{other.pk}/break-glass/",
        {"reason": "Police on scene, child unattended, need relatives"},
    )
    assert response.status_code == 302
    page = client.get(f"/people/{other.pk}/").content.decode()
    assert "emergency (break-glass) access" in page


def test_the_auditor_sees_reads_and_break_glass_flagged(personas, person_in, client_for):
    other = person_in("CED-1")
    ines = client_for(personas["ines"])
    ines.post(f"/people/{other.pk}/break-glass/", {"reason": "Police on scene, need relatives now"})
    ines.get(f"/people/{other.pk}/")
    page = client_for(personas["audrey"]).get("/audit/?break_glass=on").content.decode()
    assert "Break-glass accesses not yet reviewed (1)" in page
    assert "Police on scene" in page
    assert str(other.pk) in page
    filtered = client_for(personas["audrey"]).get(f"/audit/?username=ines&record_id={other.pk}")
    assert (
        filtered.context["page"].paginator.count
        == AuditEvent.objects.filter(username="ines", record_id=str(other.pk)).count()
    )


def test_the_audit_filter_form_refuses_bad_dates(personas, client_for):
    response = client_for(personas["audrey"]).get("/audit/?since=yesterday")
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_an_administrator_creates_a_user_with_a_role(personas, client_for, org):
    client = client_for(personas["adam"])
    response = client.post(
        "/users/",
        {
            "username": "newbie",
            "password": "a-long-pass-phrase-7",
            "role": "investigator",
            "org_unit": org["BAK-1"].pk,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert [
        (ra.role_id, getattr(ra.org_unit, "code", None)) for ra in user.role_assignments.all()
    ] == [("investigator", "BAK-1")]


def test_user_form_refuses_a_weak_password_beside_the_field(personas, client_for, org):
    response = client_for(personas["adam"]).post(
        "/users/",
        {
            "username": "newbie",
            "password": "password",
            "role": "investigator",
            "org_unit": org["BAK-1"].pk,
        },
    )
    assert "This password is too common" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_a_role_needs_an_org_unit(personas, client_for):
    response = client_for(personas["adam"]).post(
        f"/users/{personas['ines'].pk}/roles/", {"role": "supervisor", "org_unit": ""}, follow=True
    )
    assert "Choose the org unit of the role" in response.content.decode()
    assert personas["ines"].role_assignments.count() == 1


def test_demo_loader_builds_a_county_once(db, capsys):
    from django.core.management import call_command

    call_command("load_demo", people=40)
    call_command("load_demo", people=40)
    out = capsys.readouterr().out
    assert "already has data" in out
    assert "hotline" in out and "auditor" in out
    assert 40 <= Person.objects.count() < 60


def test_an_administrator_removes_a_role(personas, client_for):
    assignment = personas["ines"].role_assignments.get()
    response = client_for(personas["adam"]).post(
        f"/users/{personas['ines'].pk}/roles/{assignment.pk}/remove/"
    )
    assert response.status_code == 302
    assert not personas["ines"].role_assignments.exists()
    assert AuditEvent.objects.filter(action="delete", record_type="role_assignment").exists()


def test_only_administrators_remove_roles(personas, client_for):
    assignment = personas["ines"].role_assignments.get()
    response = client_for(personas["sam"]).post(
        f"/users/{personas['ines'].pk}/roles/{assignment.pk}/remove/"
    )
    assert response.status_code == 403
    assert personas["ines"].role_assignments.exists()


def test_the_auditor_marks_a_break_glass_access_reviewed(personas, person_in, client_for):
    other = person_in("CED-1")
    client_for(personas["ines"]).post(
        f"/people/{other.pk}/break-glass/", {"reason": "Police on scene, need relatives now"}
    )
    entry = BreakGlass.objects.get()
    auditor = client_for(personas["audrey"])
    response = auditor.post(f"/audit/break-glass/{entry.pk}/review/", {"note": "justified"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.reviewed_by == personas["audrey"]
    assert "not yet reviewed" not in auditor.get("/audit/").content.decode()


def test_only_auditors_review_break_glass(personas, person_in, client_for):
    other = person_in("CED-1")
    client_for(personas["ines"]).post(
        f"/people/{other.pk}/break-glass/", {"reason": "Police on scene, need relatives now"}
    )
    entry = BreakGlass.objects.get()
    response = client_for(personas["ines"]).post(f"/audit/break-glass/{entry.pk}/review/")
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.reviewed_at is None
