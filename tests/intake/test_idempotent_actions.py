"""A retried lifecycle action is replayed, not applied (or refused) a second time."""

from __future__ import annotations


def test_a_retried_screening_is_replayed_not_refused_as_a_second_move(
    file_report, personas, client_for
):
    report = file_report()
    client = client_for(personas["hana"])
    url = f"/api/v1/reports/{report['id']}/screen/"
    body = {"decision": "in", "narrative": "Physical abuse alleged by a teacher."}
    key = {"Idempotency-Key": "screen-1"}
    first = client.post(url, body, content_type="application/json", headers=key)
    again = client.post(url, body, content_type="application/json", headers=key)
    assert first.status_code == 200, first.content
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    # Without the key the same request is a second move, which the lifecycle refuses.
    repeat = client.post(url, body, content_type="application/json")
    assert repeat.status_code in (400, 409)
