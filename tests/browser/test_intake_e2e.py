"""End to end in Chromium: a call becomes a report, is approved and assigned, and reaches
the investigator's home page with its due clock."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kinfolk.intake.models import Report
from kinfolk.placements import services as placement_services
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_person_search_e2e import _sign_in
from tests.intake.conftest import report_body

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _prior_report(client: Any, child_id: str) -> str:
    body = report_body(
        people=[{"ref": "c1", "role": "alleged_victim", "person": child_id}],
        allegations=[{"child": "c1", "maltreatment_type": "2"}],
    )
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["number"]


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_call_reaches_the_investigator_with_its_due_clock(
    browser, live_server, personas, org, person_in, client_for, shoot, viewport, label
):
    known = person_in(
        "ADM-N", first_name="Nadia", last_name="Okonkwo", date_of_birth=date(2018, 3, 3)
    )
    prior = _prior_report(client_for(personas["hana"]), str(known.pk))
    # Nadia is in foster care: the panel shows her open case and current placement too.
    home = placement_services.resource_home_create(
        user=personas["rita"],
        org_unit=org["ADM"],
        name="Maple foster home",
        home_type="foster_family",
    )
    placement_services.child_remove(
        user=personas["felix"],
        child_id=known.pk,
        org_unit=org["ADM-N"],
        removal_date=timezone.localdate() - timedelta(days=40),
        removal_manner="2",
        removal_reasons=["neglect"],
        setting="3",
        resource_home_id=home.pk,
    )
    base = live_server.url

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "hana")
    page.goto(f"{base}/intake/new/")
    page.select_option("#id_org_unit", "ADM-N")
    page.select_option("#id_reporter_source", "5")
    page.fill("#id_reporter_name", "Casey Counselor")
    # Child 1 is in the registry: pick the match, and her prior report appears.
    page.fill("#id_child1_first", "Nadia")
    page.fill("#id_child1_last", "Okonkwo")
    page.locator(f"input[name=child1_person][value='{known.pk}']").check()
    page.locator("#history .history-person").get_by_text(prior).wait_for()
    open_records = page.locator("#history .history-open")
    open_records.locator("[data-record=case]").get_by_text("Foster care").wait_for()
    open_records.locator("[data-record=episode]").get_by_text("In care").wait_for()
    # Child 2 is new.
    page.fill("#id_child2_first", "Tobi")
    page.fill("#id_child2_last", "Okonkwo")
    page.fill("#id_child2_dob", "2020-07-01")
    page.check("#id_child2_new")
    page.select_option("#id_alleg1_child", "child1")
    page.select_option("#id_alleg1_type", "1")
    page.select_option("#id_alleg2_child", "child2")
    page.select_option("#id_alleg2_type", "1")
    page.fill("#id_narrative", "School counselor saw a hand-shaped bruise on each child.")
    shoot(page, f"{label}-intake-1-form")
    page.get_by_role("button", name="File report").click()
    page.get_by_role("heading", name="Screen this report").wait_for()
    page.get_by_label("Screen in").check()
    page.get_by_label("Why").fill("Physical abuse of two children, reported by a counselor.")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Rule").first.wait_for()
    shoot(page, f"{label}-intake-2-screened")
    report = Report.objects.exclude(number=prior).get()
    assert report.status == "screened_in" and report.participants.count() == 2
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "hector")
    page.goto(f"{base}/intake/queue/")
    page.get_by_role("link", name=report.number).wait_for()
    shoot(page, f"{label}-intake-3-live-queue")
    page.get_by_role("link", name=report.number).click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved.").wait_for()
    page.select_option("#id_assignee", "ines")
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("Assigned to").first.wait_for()
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "ines")
    row = page.get_by_role("link", name=report.number)
    row.wait_for()
    assert "Due in" in page.content()
    assert "Casey Counselor" not in page.content()
    shoot(page, f"{label}-intake-4-investigator-home")
    context.close()
    report.refresh_from_db()
    assert report.assigned_to == personas["ines"]


def test_the_live_queue_updates_without_a_reload(browser, live_server, personas, client_for):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, live_server.url, "hector")
    page.goto(f"{live_server.url}/intake/queue/")
    hana = client_for(personas["hana"])
    filed = hana.post("/api/v1/reports/", report_body(), content_type="application/json").json()
    hana.post(
        f"/api/v1/reports/{filed['id']}/screen/",
        {"decision": "in", "narrative": "n"},
        content_type="application/json",
    )
    page.get_by_role("link", name=filed["number"]).wait_for(timeout=15000)
    context.close()
