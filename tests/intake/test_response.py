"""Screening, approval, assignment and first contact: the multiple-response lifecycle."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kinfolk.core.models import Assignment
from kinfolk.intake.models import CommunityHandoff, Report, ReportEvent


def _post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", headers=headers)


def test_screening_in_shows_which_rule_fired_and_sets_the_due_clock(screened_in):
    report = screened_in()
    assert report["status"] == "screened_in"
    assert (report["track"], report["priority"], report["rule"]) == (
        "investigation",
        "P2",
        "physical_abuse",
    )
    assert "Physical abuse" in report["rule_why"]
    assert report["response_due_at"]


def test_overriding_the_track_needs_a_reason(file_report, personas, client_for):
    report = file_report()
    client = client_for(personas["hana"])
    url = f"/api/v1/reports/{report['id']}/screen/"
    refused = _post(client, url, {"decision": "in", "narrative": "n", "track": "family_assessment"})
    assert refused.status_code == 400 and "override_reason" in refused.json()["fields"]
    assert Report.objects.get().status == "submitted"
    ok = _post(
        client,
        url,
        {
            "decision": "in",
            "narrative": "n",
            "track": "family_assessment",
            "override_reason": "Bruises explained by a documented sports injury.",
        },
    )
    assert ok.status_code == 200
    assert ok.json()["track"] == "family_assessment" and ok.json()["override_reason"]


def test_screening_out_needs_a_reason_code(file_report, personas, client_for):
    report = file_report()
    url = f"/api/v1/reports/{report['id']}/screen/"
    client = client_for(personas["hana"])
    assert _post(client, url, {"decision": "out", "narrative": "n"}).status_code == 400
    ok = _post(
        client,
        url,
        {
            "decision": "out",
            "narrative": "No maltreatment alleged.",
            "reason": "no_maltreatment",
            "information_referral": "Parenting class at the family center",
        },
    )
    assert ok.json()["status"] == "screened_out" and ok.json()["track"] == ""


def test_a_supervisor_other_than_the_screener_approves(screened_in, personas, client_for):
    report = screened_in()
    own = _post(client_for(personas["hana"]), f"/api/v1/reports/{report['id']}/approve/")
    assert own.status_code == 403
    ok = _post(client_for(personas["hector"]), f"/api/v1/reports/{report['id']}/approve/")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


def test_the_screener_cannot_approve_their_own_decision(
    file_report, personas, client_for, make_user
):
    report = file_report()
    hector = client_for(personas["hector"])
    _post(hector, f"/api/v1/reports/{report['id']}/screen/", {"decision": "in", "narrative": "n"})
    own = _post(hector, f"/api/v1/reports/{report['id']}/approve/")
    assert own.status_code == 403
    assert Report.objects.get().status == "screened_in"
    colleague = client_for(make_user("hilda", "hotline_supervisor", "DS"))
    assert _post(colleague, f"/api/v1/reports/{report['id']}/approve/").status_code == 200


def test_approving_twice_is_a_move_the_table_refuses(approved, personas, client_for):
    report = approved()
    again = _post(client_for(personas["hector"]), f"/api/v1/reports/{report['id']}/approve/")
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"


def test_send_back_returns_the_report_to_screening(screened_in, personas, client_for):
    report = screened_in()
    response = _post(
        client_for(personas["hector"]),
        f"/api/v1/reports/{report['id']}/send-back/",
        {"reason": "Check the child's age first."},
    )
    assert response.json()["status"] == "submitted"
    assert [e.move for e in ReportEvent.objects.order_by("id")] == [
        "file",
        "screen_in",
        "send_back",
    ]


def test_a_screened_out_report_closes_on_approval(file_report, personas, client_for):
    report = file_report()
    _post(
        client_for(personas["hana"]),
        f"/api/v1/reports/{report['id']}/screen/",
        {"decision": "out", "narrative": "n", "reason": "historical"},
    )
    closed = _post(client_for(personas["hector"]), f"/api/v1/reports/{report['id']}/approve/")
    assert closed.json()["status"] == "closed"


def test_a_community_referral_track_creates_the_hand_off(file_report, personas, client_for):
    report = file_report(allegations=[{"child": "c2", "maltreatment_type": "2"}])
    _post(
        client_for(personas["hana"]),
        f"/api/v1/reports/{report['id']}/screen/",
        {"decision": "in", "narrative": "Low risk, needs support", "low_risk": True},
    )
    _post(client_for(personas["hector"]), f"/api/v1/reports/{report['id']}/approve/")
    assert CommunityHandoff.objects.get().report_id is not None
    assert Report.objects.get().track == "community_referral"


def test_the_office_supervisor_assigns_an_investigator(approved, personas, client_for):
    report = approved()
    response = _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    assert response.status_code == 200, response.content
    assert response.json()["assigned_to"] == "ines"
    assert Assignment.objects.get(record_type="report").user == personas["ines"]


def test_assigning_needs_if_match(approved, personas, client_for):
    report = approved()
    response = _post(
        client_for(personas["sam"]), f"/api/v1/reports/{report['id']}/assign/", {"assignee": "ines"}
    )
    assert response.status_code == 428


def test_a_worker_outside_the_office_cannot_be_assigned(approved, personas, client_for):
    report = approved()
    response = _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ivan"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    assert response.status_code == 400 and "assignee" in response.json()["fields"]


@pytest.mark.parametrize("role", ["foster_care_worker", "case_worker", "supervisor"])
def test_only_an_investigator_or_assessment_worker_takes_a_report(
    approved, personas, client_for, make_user, role
):
    make_user("worker", role, "ADM-N")  # covers the report's office, but does not respond
    report = approved()
    response = _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "worker"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    assert response.status_code == 400 and "assignee" in response.json()["fields"]
    assert Report.objects.get().assigned_to is None


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_assigning_at_once_end_with_one_owner(
    approved, personas, client_for, make_user
):
    report = approved()
    other_sup = make_user("sue", "supervisor", "ADM")
    make_user("ivy", "investigator", "ADM")
    a, b = client_for(personas["sam"]), client_for(other_sup)
    url = f"/api/v1/reports/{report['id']}/assign/"
    version = {"If-Match": f'"{report["version"]}"'}
    results: list = [None, None]
    barrier = threading.Barrier(2)

    def run(i, client, who):
        barrier.wait()
        try:
            results[i] = _post(client, url, {"assignee": who}, **version)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, a, "ines")),
        threading.Thread(target=run, args=(1, b, "ivy")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 412]
    loser = next(r for r in results if r.status_code == 412)
    owner = str(Report.objects.get().assigned_to)
    assert owner in loser.json()["message"]
    assert Assignment.objects.filter(record_type="report", ended_at__isnull=True).count() == 1


def test_first_contact_with_every_child_marks_the_report_responded(approved, personas, client_for):
    report = approved()
    _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    ines = client_for(personas["ines"])
    children = [p["person"]["id"] for p in report["people"] if p["role"] == "alleged_victim"]
    seen_at = (timezone.now() - timedelta(minutes=5)).isoformat()
    first = _post(
        ines,
        f"/api/v1/reports/{report['id']}/contacts/",
        {"child": children[0], "contact_at": seen_at, "location": "School office"},
    )
    assert first.json()["status"] == "assigned"
    second = _post(
        ines,
        f"/api/v1/reports/{report['id']}/contacts/",
        {"child": children[1], "contact_at": seen_at, "location": "Home"},
    )
    assert second.json()["status"] == "responded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact_at": "future"}, "contact_at"),
        ({"location": ""}, "location"),
        ({"child": "00000000-0000-0000-0000-000000000000"}, "child"),
    ],
)
def test_a_bad_contact_is_refused(approved, personas, client_for, body, field):
    report = approved()
    _post(
        client_for(personas["sam"]),
        f"/api/v1/reports/{report['id']}/assign/",
        {"assignee": "ines"},
        **{"If-Match": f'"{report["version"]}"'},
    )
    child = next(p["person"]["id"] for p in report["people"] if p["role"] == "alleged_victim")
    base = {"child": child, "contact_at": timezone.now().isoformat(), "location": "School"}
    if body.get("contact_at") == "future":
        body = {"contact_at": (timezone.now() + timedelta(hours=2)).isoformat()}
    response = _post(
        client_for(personas["ines"]), f"/api/v1/reports/{report['id']}/contacts/", base | body
    )
    assert response.status_code == 400 and field in response.json()["fields"]


def test_the_supervisor_queue_lists_what_waits_soonest_first(
    screened_in, approved, personas, client_for
):
    waiting = screened_in()
    ready = approved()
    queue = client_for(personas["hector"]).get("/api/v1/reports/queue/").json()
    assert [r["id"] for r in queue["awaiting_approval"]] == [waiting["id"]]
    assert [r["id"] for r in queue["unassigned"]] == [ready["id"]]


def test_filters_by_status_office_and_due(approved, personas, client_for):
    report = approved()
    client = client_for(personas["hector"])
    soon = (timezone.now() + timedelta(days=2)).isoformat()
    assert [r["id"] for r in client.get("/api/v1/reports/", {"status": "approved"}).json()] == [
        report["id"]
    ]
    assert client.get("/api/v1/reports/", {"office": "CED-1"}).json() == []
    assert len(client.get("/api/v1/reports/", {"due_before": soon}).json()) == 1
    assert client.get("/api/v1/reports/", {"status": "nonsense"}).status_code == 400
