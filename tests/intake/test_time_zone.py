"""Times are stored in UTC and read, shown and judged on the agency's clock (America/Chicago)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kinfolk.core.errors import ValidationFailed
from kinfolk.intake import services
from kinfolk.intake.models import Report
from tests.intake.test_pages import KEY, _form


@pytest.fixture
def hana(personas, client_for):
    return client_for(personas["hana"])


def test_a_time_typed_on_the_form_is_the_agencys_local_time(hana):
    hana.post(f"/intake/new/?draft={KEY}", _form(received_at="2025-01-15T14:05"))
    report = Report.objects.get()
    # 14:05 in Chicago in January (CST, UTC-6) is 20:05 UTC.
    assert report.received_at == datetime(2025, 1, 15, 20, 5, tzinfo=UTC)
    page = hana.get(f"/reports/{report.pk}/").content.decode()
    assert "received 2025-01-15 14:05" in page


def test_the_due_time_is_shown_on_the_agencys_clock(hana, personas, client_for):
    hana.post(f"/intake/new/?draft={KEY}", _form(received_at="2025-07-15T14:05"))
    report = Report.objects.get()
    hana.post(f"/reports/{report.pk}/screen/", {"decision": "in", "narrative": "Infant injured."})
    report.refresh_from_db()
    # A child under 3 with physical abuse: immediate, 3 hours from receipt (CDT in July).
    assert report.response_due_at == datetime(2025, 7, 15, 22, 5, tzinfo=UTC)
    page = client_for(personas["hector"]).get(f"/reports/{report.pk}/").content.decode()
    assert "contact due 2025-07-15 17:05 CDT" in page


def test_the_api_keeps_iso_8601_with_an_offset(hana, personas, client_for):
    hana.post(f"/intake/new/?draft={KEY}", _form(received_at="2025-01-15T14:05"))
    report = Report.objects.get()
    body = client_for(personas["hector"]).get(f"/api/v1/reports/{report.pk}/").json()
    assert datetime.fromisoformat(body["received_at"]) == datetime(2025, 1, 15, 20, 5, tzinfo=UTC)
    assert body["received_at"][-6:] in {"-06:00", "+00:00"} or body["received_at"].endswith("Z")


# 21:30 in Chicago on 10 July is already 02:30 on 11 July in UTC.
AGENCY_EVENING = datetime(2026, 7, 11, 2, 30, tzinfo=UTC)


def test_an_incident_on_the_agencys_tomorrow_is_in_the_future_at_night():
    with pytest.raises(ValidationFailed) as refused:
        services._check_when(
            datetime(2026, 7, 11, 2, 0, tzinfo=UTC),
            [{"incident_date": date(2026, 7, 11)}],
            now=AGENCY_EVENING,
        )
    assert "allegations[0].incident_date" in refused.value.fields


def test_an_incident_today_in_the_agency_is_accepted_in_the_evening():
    services._check_when(
        datetime(2026, 7, 11, 2, 0, tzinfo=UTC),
        [{"incident_date": date(2026, 7, 10)}],
        now=AGENCY_EVENING,
    )
