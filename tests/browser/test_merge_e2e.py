"""End to end in Chromium: a data steward merges a child entered twice, then undoes it."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.people.models import Person, PersonMerge
from kinfolk.people.services import duplicates_find
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_person_search_e2e import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_steward_merges_a_duplicate_and_undoes_it(
    browser, live_server, personas, person_in, shoot, viewport, label
):
    born = dt.date(2015, 6, 2)
    kept = person_in("ADM-N", first_name="Brianna", last_name="Davis", date_of_birth=born, sex="2")
    typo = person_in("ADM-S", first_name="Biranna", last_name="Davis", date_of_birth=born, sex="2")
    assert duplicates_find() >= 1
    base = live_server.url

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    _sign_in(page, base, "sam")
    page.goto(f"{base}/people/duplicates/")
    page.get_by_role("heading", name="Possible duplicates").wait_for()
    assert page.get_by_text("date of birth matches").first.is_visible()
    shoot(page, f"{label}-merge-1-queue")
    page.get_by_label("Brianna Davis").check()
    page.get_by_label("Reason").first.fill("Same child: the name was misspelt at intake.")
    page.get_by_role("button", name="Merge into the record kept").click()
    page.get_by_text("Records merged").wait_for()
    shoot(page, f"{label}-merge-2-merged")
    typo.refresh_from_db()
    assert typo.merged_into_id == kept.pk
    page.get_by_label("Reason").last.fill("Merged the wrong way round; undoing.")
    page.get_by_role("button", name="Unmerge").click()
    page.get_by_text("Merge undone").wait_for()
    shoot(page, f"{label}-merge-3-undone")
    assert Person.objects.get(pk=typo.pk).merged_into_id is None
    assert PersonMerge.objects.get().undone_at is not None
    context.close()
