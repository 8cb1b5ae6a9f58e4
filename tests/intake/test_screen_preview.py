"""Before screening, the worker sees which rule would fire and why; the approver sees overrides."""

from __future__ import annotations


def test_the_screen_form_previews_the_rule_that_would_fire(file_report, personas, client_for):
    report = file_report()
    page = client_for(personas["hana"]).get(f"/reports/{report['id']}/").content.decode()
    assert "rule <code>physical_abuse</code> would fire" in page
    assert "Physical abuse is investigated within 24 hours." in page


def test_ticking_a_screening_fact_refreshes_the_preview(file_report, personas, client_for):
    report = file_report()
    hana = client_for(personas["hana"])
    url = f"/reports/{report['id']}/screen/preview/"
    partial = hana.get(url, {"serious_injury": "on"}, headers={"HX-Request": "true"})
    assert "rule <code>serious_injury</code> would fire" in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert client_for(personas["ines"]).get(url).status_code == 403


def test_an_overridden_decision_is_flagged_for_the_approver(file_report, personas, client_for):
    report = file_report()
    client_for(personas["hana"]).post(
        f"/api/v1/reports/{report['id']}/screen/",
        {
            "decision": "in",
            "narrative": "Bruises seen.",
            "track": "family_assessment",
            "override_reason": "Documented sports injury explains the bruises.",
        },
        content_type="application/json",
    )
    hector = client_for(personas["hector"])
    queue = hector.get("/intake/queue/").content.decode()
    assert "Overridden" in queue
    page = hector.get(f"/reports/{report['id']}/").content.decode()
    assert "<strong>Overridden:</strong>" in page and "sports injury" in page


def test_a_decision_that_follows_the_rules_is_not_flagged(screened_in, personas, client_for):
    screened_in()
    assert "Overridden" not in client_for(personas["hector"]).get("/intake/queue/").content.decode()
