"""The prior-history panel and related reports, subject to access."""

from __future__ import annotations


def _ids(report, role="alleged_victim"):
    return [p["person"]["id"] for p in report["people"] if p["role"] == role]


def test_prior_reports_of_each_person_are_shown(file_report, personas, client_for):
    first = file_report()
    child = _ids(first)[0]
    history = (
        client_for(personas["hana"]).get("/api/v1/reports/prior-history/", {"person": child}).json()
    )
    assert [r["id"] for r in history["people"][0]["reports"]] == [first["id"]]
    assert [r["id"] for r in history["related_open_reports"]] == [first["id"]]


def test_workers_outside_the_scope_see_only_the_count(file_report, personas, client_for, person_in):
    first = file_report()
    child = _ids(first)[0]
    # Ivan (Cedar) has the child via assignment, but not the Adams report.
    from kinfolk.core.models import Assignment

    Assignment.objects.create(user=personas["ivan"], record_type="person", record_id=child)
    history = (
        client_for(personas["ivan"]).get("/api/v1/reports/prior-history/", {"person": child}).json()
    )
    assert history["people"][0]["reports"] == []
    assert history["people"][0]["outside_scope"] == 1


def test_an_additional_report_can_be_linked_to_an_open_one(
    file_report, screened_in, personas, client_for
):
    first = screened_in()
    people = [{"ref": "c1", "role": "alleged_victim", "person": _ids(first)[0]}]
    second = file_report(
        people=people,
        allegations=[{"child": "c1", "maltreatment_type": "2"}],
        linked_to=first["id"],
    )
    assert second["linked_to"] == first["id"]


def test_prior_history_refuses_bad_ids(personas, client_for):
    client = client_for(personas["hana"])
    assert client.get("/api/v1/reports/prior-history/", {"person": "nope"}).status_code == 400
    assert client.get("/api/v1/reports/prior-history/").status_code == 400
