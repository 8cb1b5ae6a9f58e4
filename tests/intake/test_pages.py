"""The hotline pages as workers use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.intake.models import Report, ReportDraft
from kinfolk.people.models import Person

KEY = "a" * 32


def _form(**over):
    data = {
        "draft": KEY,
        "received_at": (timezone.localtime() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "channel": "phone",
        "org_unit": "ADM-N",
        "reporter_source": "2",
        "reporter_name": "Dr. Nurse",
        "narrative": "Toddler with a spiral fracture, parents' story does not fit.",
        "child1_first": "Ava",
        "child1_last": "Brennan",
        "child1_dob": "2024-06-01",
        "child1_sex": "2",
        "child1_new": "on",
        "child2_first": "Owen",
        "child2_last": "Brennan",
        "child2_dob": "2021-01-15",
        "child2_sex": "1",
        "child2_new": "on",
        "adult1_first": "Kyle",
        "adult1_last": "Brennan",
        "adult1_role": "alleged_perpetrator",
        "adult1_new": "on",
        "alleg1_child": "child1",
        "alleg1_perp": "adult1",
        "alleg1_rel": "parent",
        "alleg1_type": "1",
        "alleg2_child": "child2",
        "alleg2_perp": "adult1",
        "alleg2_rel": "parent",
        "alleg2_type": "2",
    }
    data.update(over)
    return data


@pytest.fixture
def hana(personas, client_for):
    return client_for(personas["hana"])


def test_the_intake_page_gets_a_draft_key(hana):
    response = hana.get("/intake/new/")
    assert response.status_code == 302 and "draft=" in response["Location"]


def test_a_hotline_worker_files_a_report_from_the_page(hana):
    response = hana.post(f"/intake/new/?draft={KEY}", _form())
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert report.participants.count() == 3 and report.allegations.count() == 2
    page = hana.get(response["Location"]).content.decode()
    assert "Dr. Nurse" in page and "Screen this report" in page


@pytest.mark.parametrize(
    ("over", "message"),
    [
        (
            {"child1_first": "", "child1_last": "", "child2_first": "", "child2_last": ""},
            "at least one child",
        ),
        ({"alleg1_type": "", "alleg2_type": ""}, "Unknown maltreatment type"),
        ({"alleg1_date": "2999-01-01"}, "Cannot be in the future"),
        ({"received_at": "2999-01-01T10:00"}, "Cannot be in the future"),
        ({"channel": "carrier-pigeon"}, "Select a valid choice"),
        ({"narrative": ""}, "This field is required"),
        # Left empty, the office comes from the family's records; new people have none.
        ({"org_unit": ""}, "Choose the responsible office"),
    ],
)
def test_the_intake_page_shows_errors_and_files_nothing(hana, over, message):
    response = hana.post(f"/intake/new/?draft={KEY}", _form(**over))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Report.objects.count() == 0 and Person.objects.count() == 0


def test_a_likely_duplicate_is_flagged_beside_the_child(hana, person_in):
    from datetime import date

    person_in("BAK-1", first_name="Ava", last_name="Brennan", date_of_birth=date(2024, 6, 1))
    response = hana.post(f"/intake/new/?draft={KEY}", _form(child1_new=""))
    assert "Possible duplicate" in response.content.decode()
    assert Report.objects.count() == 0


def test_typing_autosaves_a_draft_and_it_comes_back(hana):
    saved = hana.post("/intake/draft/", {"draft": KEY, "narrative": "half a sentence"})
    assert saved.status_code == 200 and "Draft saved" in saved.content.decode()
    page = hana.get(f"/intake/new/?draft={KEY}").content.decode()
    assert "half a sentence" in page
    hana.post(f"/intake/new/?draft={KEY}", _form())
    assert not ReportDraft.objects.exists()


def test_registry_matches_appear_as_the_worker_types(hana, person_in):
    known = person_in("CED-1", first_name="Ava", last_name="Brennan")
    response = hana.post(
        "/intake/match/?slot=child1", {"child1_first": "Ava", "child1_last": "Brenan"}
    )
    assert str(known.pk) in response.content.decode()
    assert hana.post("/intake/match/?slot=evil", {}).status_code == 400


def test_the_history_panel_lists_prior_reports(hana, file_report):
    first = file_report()
    child = next(p["person"]["id"] for p in first["people"] if p["role"] == "alleged_victim")
    panel = hana.get("/intake/history/", {"child1_person": child}).content.decode()
    assert first["number"] in panel
    assert "Open reports about these children" in panel


def test_screening_approval_and_assignment_through_the_report_page(
    personas, client_for, file_report
):
    report = file_report()
    url = f"/reports/{report['id']}/"
    hana = client_for(personas["hana"])
    hana.post(url + "screen/", {"decision": "in", "narrative": "Bruises seen by teacher."})
    assert Report.objects.get().status == "screened_in"
    hector = client_for(personas["hector"])
    page = hector.get(url).content.decode()
    assert "Rule <code>physical_abuse</code>" in page and "Supervisor approval" in page
    hector.post(url + "approve/", {"note": ""})
    sam = client_for(personas["sam"])
    page = sam.get(url).content.decode()
    # Only investigators / family-assessment workers who cover the report's office are offered.
    assert 'value="ines"' in page
    assert 'value="ivan"' not in page and 'value="audrey"' not in page
    assert 'value="felix"' not in page and 'value="carla"' not in page
    sam.post(url + "assign/", {"assignee": "ines", "version": Report.objects.get().version})
    assert Report.objects.get().assigned_to == personas["ines"]


def test_a_second_assignment_on_a_stale_page_names_the_owner(personas, client_for, approved):
    report = approved()
    sam = client_for(personas["sam"])
    url = f"/reports/{report['id']}/assign/"
    sam.post(url, {"assignee": "ines", "version": report["version"]})
    response = sam.post(url, {"assignee": "ines", "version": report["version"]}, follow=True)
    assert "now assigned to Ines" in response.content.decode()
    assert Report.objects.get().assigned_to == personas["ines"]


def test_the_investigator_sees_the_report_and_its_clock_at_home(personas, client_for, approved):
    report = approved()
    client_for(personas["sam"]).post(
        f"/reports/{report['id']}/assign/", {"assignee": "ines", "version": report["version"]}
    )
    home = client_for(personas["ines"]).get("/").content.decode()
    assert report["number"] in home and "Due in" in home


def test_the_live_queue_refreshes_with_just_the_tables(personas, client_for, screened_in):
    report = screened_in()
    hector = client_for(personas["hector"])
    full = hector.get("/intake/queue/").content.decode()
    partial = hector.get("/intake/queue/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 10s"' in full and "<html" not in partial
    assert report["number"] in partial


def test_an_overdue_report_says_so_in_words(personas, client_for, approved):
    report = approved()
    Report.objects.filter(pk=report["id"]).update(
        response_due_at=timezone.now() - timedelta(hours=2)
    )
    page = client_for(personas["hector"]).get("/intake/queue/").content.decode()
    assert "Overdue by 2h" in page or "Overdue by 1h 5" in page


def test_recording_contact_from_the_page(personas, client_for, approved):
    report = approved()
    client_for(personas["sam"]).post(
        f"/reports/{report['id']}/assign/", {"assignee": "ines", "version": report["version"]}
    )
    ines = client_for(personas["ines"])
    for p in report["people"]:
        if p["role"] == "alleged_victim":
            ines.post(
                f"/reports/{report['id']}/contact/",
                {
                    "child": p["person"]["id"],
                    "location": "School",
                    "contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                },
            )
    assert Report.objects.get().status == "responded"


def test_workers_without_intake_roles_get_no_intake_page(personas, client_for):
    assert client_for(personas["ines"]).get(f"/intake/new/?draft={KEY}").status_code == 403
    assert client_for(personas["ines"]).get("/intake/queue/").status_code == 403


def test_a_call_can_be_added_to_an_open_report_from_the_page(hana, screened_in):
    first = screened_in()
    child = next(p["person"]["id"] for p in first["people"] if p["role"] == "alleged_victim")
    panel = hana.get("/intake/history/", {"child1_person": child}).content.decode()
    assert f'name="linked_to" value="{first["id"]}"' in panel
    form = _form(child1_person=child, child1_first="", child1_last="", linked_to=first["id"])
    response = hana.post(f"/intake/new/?draft={KEY}", form)
    assert response.status_code == 302
    second = Report.objects.exclude(pk=first["id"]).get()
    assert str(second.linked_to_id) == first["id"]


def test_the_same_form_submitted_twice_files_one_report(hana):
    first = hana.post(f"/intake/new/?draft={KEY}", _form())
    again = hana.post(f"/intake/new/?draft={KEY}", _form(), follow=True)
    report = Report.objects.get()
    assert first["Location"] == f"/reports/{report.pk}/"
    assert again.redirect_chain[-1][0] == f"/reports/{report.pk}/"
    assert f"already filed as report {report.number}" in again.content.decode()
    assert Person.objects.count() == 3


def test_a_refiled_draft_key_through_the_service_returns_the_first_report(personas, hana):
    hana.post(f"/intake/new/?draft={KEY}", _form())
    from kinfolk.intake import services

    again = services.report_file(
        user=personas["hana"],
        org_unit=Report.objects.get().org_unit,
        received_at=timezone.now(),
        channel="phone",
        narrative="A second click.",
        reporter={"source": "2"},
        people=[],
        allegations=[],
        draft_key=KEY,
    )
    assert again == Report.objects.get()
