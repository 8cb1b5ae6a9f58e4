"""Administrators set and clear a user's supervisor, through the API and the users page."""

from __future__ import annotations

import pytest

from kinfolk.core.models import AuditEvent, Supervision


def _supervisors(user):
    return sorted(
        Supervision.objects.filter(supervisee=user).values_list("supervisor__username", flat=True)
    )


@pytest.fixture
def adam(personas, client_for):
    return client_for(personas["adam"])


def _set(client, user, supervisor):
    return client.post(
        f"/api/v1/users/{user.pk}/supervisor/",
        {"supervisor": supervisor},
        content_type="application/json",
    )


def test_an_administrator_sets_a_supervisor_through_the_api(personas, adam):
    response = _set(adam, personas["carla"], "sam")
    assert response.status_code == 200
    assert response.json()["supervisors"] == ["sam"]
    assert _supervisors(personas["carla"]) == ["sam"]


def test_setting_a_supervisor_replaces_the_previous_one(personas, adam):
    _set(adam, personas["ines"], "mona")
    assert _supervisors(personas["ines"]) == ["mona"]


def test_setting_and_clearing_a_supervisor_write_audit_rows(personas, adam):
    _set(adam, personas["carla"], "sam")
    created = AuditEvent.objects.get(record_type="supervision", action="create", username="adam")
    assert created.record_id == str(personas["carla"].pk)
    assert created.detail["supervisor"] == personas["sam"].pk
    adam.delete(f"/api/v1/users/{personas['carla'].pk}/supervisor/")
    removed = AuditEvent.objects.get(record_type="supervision", action="delete", username="adam")
    assert removed.record_id == str(personas["carla"].pk)


def test_an_administrator_clears_a_supervisor_through_the_api(personas, adam):
    response = adam.delete(f"/api/v1/users/{personas['ines'].pk}/supervisor/")
    assert response.status_code == 200
    assert response.json()["supervisors"] == []
    assert _supervisors(personas["ines"]) == []


def test_nobody_supervises_themselves(personas, adam):
    response = _set(adam, personas["sam"], "sam")
    assert response.status_code == 400
    assert "supervisor" in response.json()["fields"]
    assert not Supervision.objects.filter(supervisee=personas["sam"]).exists()


def test_a_supervision_loop_is_refused(personas, adam):
    # sam supervises ines; ines may not supervise sam, nor someone above sam.
    _set(adam, personas["sam"], "mona")
    response = _set(adam, personas["mona"], "ines")
    assert response.status_code == 400
    assert "loop" in response.json()["fields"]["supervisor"][0]
    assert _supervisors(personas["mona"]) == []


def test_an_unknown_supervisor_is_a_field_error(personas, adam):
    response = _set(adam, personas["ines"], "nobody-by-that-name")
    assert response.status_code == 400
    assert "supervisor" in response.json()["fields"]
    assert _supervisors(personas["ines"]) == ["sam"]


def test_an_unknown_user_is_a_404(personas, adam):
    response = adam.post(
        "/api/v1/users/999999/supervisor/", {"supervisor": "sam"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_only_administrators_set_supervisors(personas, client_for):
    response = _set(client_for(personas["sam"]), personas["carla"], "sam")
    assert response.status_code == 403
    assert _supervisors(personas["carla"]) == []


def test_the_users_page_sets_a_supervisor(personas, adam):
    response = adam.post(f"/users/{personas['carla'].pk}/supervisor/", {"supervisor": "sam"})
    assert response.status_code == 302
    assert _supervisors(personas["carla"]) == ["sam"]
    page = adam.get("/users/").content.decode()
    assert f'id="id_supervisor_{personas["carla"].pk}_supervisor"' in page
    assert 'value="sam"' in page


def test_the_users_page_clears_a_supervisor(personas, adam):
    response = adam.post(
        f"/users/{personas['ines'].pk}/supervisor/", {"supervisor": "sam", "action": "clear"}
    )
    assert response.status_code == 302
    assert _supervisors(personas["ines"]) == []


def test_the_users_page_shows_a_bad_supervisor_next_to_the_field(personas, adam):
    response = adam.post(f"/users/{personas['ines'].pk}/supervisor/", {"supervisor": "ghost"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_supervisor_{personas["ines"].pk}_supervisor_error"' in page
    assert "No active user has that username." in page
    assert _supervisors(personas["ines"]) == ["sam"]


def test_the_users_page_refuses_a_loop_with_a_message(personas, adam):
    response = adam.post(f"/users/{personas['sam'].pk}/supervisor/", {"supervisor": "ines"})
    assert response.status_code == 400
    assert "loop" in response.content.decode()
    assert _supervisors(personas["sam"]) == []


def test_only_administrators_use_the_supervisor_form(personas, client_for):
    response = client_for(personas["sam"]).post(
        f"/users/{personas['carla'].pk}/supervisor/", {"supervisor": "sam"}
    )
    assert response.status_code == 403
    assert _supervisors(personas["carla"]) == []
