"""End to end in Chromium: a hotline worker finds a person; the auditor sees the reads."""

from __future__ import annotations

from typing import Any

import pytest

from kinfolk.core.models import AuditEvent
from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_hotline_worker_finds_a_person_and_the_auditor_sees_it(
    browser, live_server, personas, person_in, shoot, viewport, label
):
    person = person_in("CED-1", first_name="Jaylen", last_name="Carter", middle_name="Ray")
    person_in("ADM-N", first_name="Jalen", last_name="Cartwright")
    base = live_server.url

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "hana")
    shoot(page, f"{label}-1-hotline-home")
    page.get_by_role("link", name="People").first.click() if label == "desktop" else page.goto(
        f"{base}/people/"
    )
    page.get_by_label("Name").fill("Jaylen Karter")  # a typo, as on the phone
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("link", name="Carter, Jaylen Ray")
    row.wait_for()
    shoot(page, f"{label}-2-search-results")
    row.click()
    page.get_by_role("heading", name="Jaylen Ray Carter").wait_for()
    assert page.get_by_text("History of this record").is_visible()
    shoot(page, f"{label}-3-person-page")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login/")
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "audrey")
    page.goto(f"{base}/audit/?username=hana")
    page.get_by_role("heading", name="Audit trail").wait_for()
    body = page.content()
    assert str(person.pk) in body
    assert "Viewed" in body and "Searched" in body and "Logged out" in body
    shoot(page, f"{label}-4-auditor-page")
    context.close()
    assert (
        AuditEvent.objects.filter(username="hana", action="view", record_id=str(person.pk)).count()
        == 1
    )


def test_the_search_updates_as_the_worker_types(browser, live_server, personas, person_in):
    person_in("ADM-N", first_name="Ruby", last_name="Nakamura")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, live_server.url, "ines")
    page.goto(f"{live_server.url}/people/")
    page.get_by_label("Name").press_sequentially("Ruby Nakamura", delay=20)
    page.get_by_role("link", name="Nakamura, Ruby").wait_for(timeout=5000)
    context.close()


def test_keyboard_only_sign_in(browser, live_server, personas):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    for _ in range(10):  # the username field is reachable by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "username":
            break
    page.keyboard.type("ines")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert "Good day" in page.content()
    context.close()
