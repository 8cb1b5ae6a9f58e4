"""Closing a responded report, and finding one's drafts again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kinfolk.intake.models import Report, ReportEvent


def _post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", headers=headers)


@pytest.fixture
def responded(approved, personas, client_for):
    """An approved report assigned to Ines, who has seen every child."""

    def make():
        report = approved()
        _post(
            client_for(personas["sam"]),
            f"/api/v1/reports/{report['id']}/assign/",
            {"assignee": "ines"},
            **{"If-Match": f'"{report["version"]}"'},
        )
        ines = client_for(personas["ines"])
        seen_at = (timezone.now() - timedelta(minutes=5)).isoformat()
        body = None
        for p in report["people"]:
            if p["role"] == "alleged_victim":
                body = _post(
                    ines,
                    f"/api/v1/reports/{report['id']}/contacts/",
                    {"child": p["person"]["id"], "contact_at": seen_at, "location": "Home"},
                ).json()
        assert body is not None and body["status"] == "responded"
        return body

    return make


SUMMARY = {"summary": "Children seen and safe; family assessment done, no further action."}


def test_the_assigned_investigator_closes_a_responded_report(responded, personas, client_for):
    report = responded()
    response = _post(
        client_for(personas["ines"]), f"/api/v1/reports/{report['id']}/close/", SUMMARY
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert response.json()["closing_summary"].startswith("Children seen")
    event = ReportEvent.objects.filter(move="close").get()
    assert event.by == personas["ines"] and event.from_status == "responded"


def test_the_supervisor_closes_a_responded_report(responded, personas, client_for):
    report = responded()
    response = _post(client_for(personas["sam"]), f"/api/v1/reports/{report['id']}/close/", SUMMARY)
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_a_hotline_worker_cannot_close_a_report(responded, personas, client_for):
    report = responded()
    response = _post(
        client_for(personas["hana"]), f"/api/v1/reports/{report['id']}/close/", SUMMARY
    )
    assert response.status_code == 403
    assert Report.objects.get().status == "responded"


def test_closing_needs_a_summary(responded, personas, client_for):
    report = responded()
    response = _post(
        client_for(personas["ines"]), f"/api/v1/reports/{report['id']}/close/", {"summary": ""}
    )
    assert response.status_code == 400 and "summary" in response.json()["fields"]
    assert Report.objects.get().status == "responded"


def test_an_assigned_report_not_yet_responded_cannot_be_closed(approved, personas, client_for):
    report = approved()
    _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    response = _post(
        client_for(personas["ines"]), f"/api/v1/reports/{report['id']}/close/", SUMMARY
    )
    assert response.status_code == 409 and response.json()["code"] == "transition_not_allowed"
    assert Report.objects.get().status == "assigned"


def test_the_report_page_offers_closing_to_the_investigator(responded, personas, client_for):
    report = responded()
    ines = client_for(personas["ines"])
    url = f"/reports/{report['id']}/"
    assert "Close this report" in ines.get(url).content.decode()
    assert "Close this report" not in client_for(personas["hana"]).get(url).content.decode()
    page = ines.post(url + "close/", SUMMARY, follow=True).content.decode()
    assert "Report closed." in page and Report.objects.get().status == "closed"


# --- My drafts ------------------------------------------------------------------------------

KEY_A, KEY_B = "a" * 32, "b" * 32


def test_my_drafts_are_listed_on_the_intake_page(personas, client_for):
    hana = client_for(personas["hana"])
    hana.post("/intake/draft/", {"draft": KEY_A, "narrative": "interrupted call"})
    page = hana.get(f"/intake/new/?draft={KEY_B}").content.decode()
    assert "My drafts (1)" in page and f"?draft={KEY_A}" in page
    hector = client_for(personas["hector"]).get(f"/intake/new/?draft={KEY_B}").content.decode()
    assert "My drafts" not in hector


def test_the_api_lists_only_the_callers_drafts(personas, client_for):
    hana = client_for(personas["hana"])
    client = client_for(personas["hector"])
    hana.put("/api/v1/reports/drafts/mine-1/", {"data": {"a": 1}}, content_type="application/json")
    client.put("/api/v1/reports/drafts/his-1/", {"data": {"b": 2}}, content_type="application/json")
    listed = hana.get("/api/v1/reports/drafts/").json()
    assert [d["key"] for d in listed] == ["mine-1"] and listed[0]["data"] == {"a": 1}
