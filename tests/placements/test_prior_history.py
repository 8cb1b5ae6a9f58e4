"""The hotline's prior-history panel shows each person's open cases and current placement."""

from __future__ import annotations

from kinfolk.core.models import Assignment, AuditEvent
from kinfolk.intake import selectors as intake_selectors


def test_the_panel_shows_an_open_case_and_the_current_placement(removed, personas, client_for):
    episode = removed(days=60)
    panel = (
        client_for(personas["hana"])
        .get("/intake/history/", {"child1_person": str(episode.child_id)})
        .content.decode()
    )
    assert f"Open case {episode.case.number}" in panel
    assert "In care: Foster family home (non-relative)" in panel
    assert "Adams North Office" in panel
    assert f"since {episode.removal_date:%Y-%m-%d}" in panel
    assert "outside your scope" not in panel


def test_the_prior_history_audit_row_lists_the_cases_and_episodes_shown(removed, personas):
    episode = removed()
    intake_selectors.prior_history(user=personas["hana"], person_ids=[episode.child_id])
    row = AuditEvent.objects.filter(record_type="prior_history").first()
    assert row is not None
    assert row.detail["records"] == {
        "case": [str(episode.case_id)],
        "episode": [str(episode.pk)],
    }


def test_hotline_sees_history_statewide_and_others_only_a_count(removed, personas, client_for):
    episode = removed()
    child = str(episode.child_id)
    # Ivan (Cedar) may open the child through an assignment, but not the Adams case or episode.
    Assignment.objects.create(user=personas["ivan"], record_type="person", record_id=child)
    [mine] = (
        client_for(personas["ivan"])
        .get("/api/v1/reports/prior-history/", {"person": child})
        .json()["people"]
    )
    assert mine["open_records"] == [] and mine["open_records_outside_scope"] == 2
    [hanas] = (
        client_for(personas["hana"])
        .get("/api/v1/reports/prior-history/", {"person": child})
        .json()["people"]
    )
    assert {r["record_type"] for r in hanas["open_records"]} == {"case", "episode"}
    assert hanas["open_records_outside_scope"] == 0
    panel = (
        client_for(personas["ivan"])
        .get("/intake/history/", {"child1_person": child})
        .content.decode()
    )
    assert "2 open cases or placements outside your scope" in panel


def test_a_discharged_child_shows_no_current_placement(removed, personas, days_ago):
    from kinfolk.placements import services

    episode = removed(days=60)
    services.child_discharge(
        user=personas["felix"],
        episode_id=episode.pk,
        expected_version=episode.version,
        discharge_date=days_ago(1),
        discharge_reason="1",
    )
    [history] = intake_selectors.prior_history(user=personas["hana"], person_ids=[episode.child_id])
    assert [r.record_type for r in history.records] == ["case"]
