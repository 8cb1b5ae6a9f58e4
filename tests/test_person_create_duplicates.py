"""Adding a person always searches first: a possible duplicate needs a recorded confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kinfolk.core.models import AuditEvent
from kinfolk.core.policy import MatchingPolicy, PolicyError, parse_policy
from kinfolk.people.models import Person, PossibleDuplicate
from tests.intake.conftest import report_body

NEW = {
    "first_name": "Jaylen",
    "last_name": "Carter",
    "org_unit": "ADM-N",
    "date_of_birth": "2017-03-09",
    "sex": "1",
}


@pytest.fixture
def jaylen(person_in) -> Person:
    return person_in(
        "ADM-N", first_name="Jaylen", last_name="Carter", date_of_birth=date(2017, 3, 9), sex="1"
    )


@pytest.fixture
def ines(personas, client_for) -> Any:
    return client_for(personas["ines"])


def _post(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/persons/", NEW | body, content_type="application/json")


def test_adding_someone_already_in_the_registry_is_refused_naming_the_candidate(ines, jaylen):
    response = _post(ines)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert str(jaylen.pk) in body["fields"]["different_from"][0]
    [candidate] = body["candidates"]
    assert candidate["id"] == str(jaylen.pk)
    assert candidate["probability"] >= 0.5
    assert any("date of birth matches" in r for r in candidate["reasons"])
    assert Person.objects.count() == 1


def test_the_refusal_explains_each_fields_contribution(ines, jaylen):
    reasons = _post(ines, first_name="Jalen").json()["candidates"][0]["reasons"]
    assert any(r.startswith("+") and "date of birth matches" in r for r in reasons)
    assert reasons[-1].endswith("starting odds, before any evidence")
    assert reasons[-1].startswith("\u2212")  # two records are rarely one person


def test_confirming_a_different_person_with_a_reason_creates_and_records_the_pair(
    ines, jaylen, personas
):
    response = _post(ines, different_from=[str(jaylen.pk)], confirmation_reason="Cousin")
    assert response.status_code == 201, response.content
    new_id = response.json()["id"]
    pair = PossibleDuplicate.objects.get()
    assert {str(pair.person_a_id), str(pair.person_b_id)} == {new_id, str(jaylen.pk)}
    assert pair.status == PossibleDuplicate.Status.CONFIRMED_DIFFERENT
    assert pair.probability >= 0.5 and pair.reasons
    row = AuditEvent.objects.get(record_id=new_id, detail__confirmed_different_from=str(jaylen.pk))
    assert row.reason == "Cousin"
    assert row.user == personas["ines"]


def test_a_confirmation_without_a_reason_is_refused(ines, jaylen):
    response = _post(ines, different_from=[str(jaylen.pk)])
    assert response.status_code == 400
    assert response.json()["fields"] == {"confirmation_reason": ["This field is required."]}
    assert response.json()["candidates"][0]["id"] == str(jaylen.pk)
    assert Person.objects.count() == 1


def test_every_candidate_must_be_confirmed(ines, jaylen, person_in):
    other = person_in(
        "ADM-N", first_name="Jaylen", last_name="Carter", date_of_birth=date(2017, 3, 9), sex="1"
    )
    response = _post(ines, different_from=[str(jaylen.pk)], confirmation_reason="Cousin")
    assert response.status_code == 400
    [message] = response.json()["fields"]["different_from"]
    assert str(other.pk) in message and str(jaylen.pk) not in message
    assert Person.objects.count() == 2
    assert not PossibleDuplicate.objects.exists()


def test_an_unknown_person_in_the_confirmation_is_a_field_error(ines):
    response = _post(
        ines,
        different_from=["00000000-0000-0000-0000-000000000000"],
        confirmation_reason="Cousin",
    )
    assert response.status_code == 400
    assert "different_from" in response.json()["fields"]
    assert not Person.objects.exists()


def test_someone_plainly_different_is_added_without_a_confirmation(ines, jaylen):
    # Same surname, another first name and birth date: a sibling, not a duplicate.
    response = _post(ines, first_name="Dana", date_of_birth="2012-11-30")
    assert response.status_code == 201, response.content
    assert not PossibleDuplicate.objects.exists()


def test_a_person_the_worker_cannot_see_does_not_block_nor_leak(ines, person_in):
    person_in(
        "CED-1", first_name="Jaylen", last_name="Carter", date_of_birth=date(2017, 3, 9), sex="1"
    )
    response = _post(ines)
    assert response.status_code == 201
    assert "candidates" not in response.json()


def test_the_threshold_comes_from_the_policy(ines, jaylen, monkeypatch):
    strict = MatchingPolicy(possible_duplicate=0.999999, likely_duplicate=0.9999999)
    monkeypatch.setattr("kinfolk.people.selectors.matching_policy", lambda: strict)
    # Only a first-name typo and no birth date: possible under 0.5, not under 0.999999.
    assert _post(ines, first_name="Jalen", date_of_birth=None).status_code == 201


# --- The page ------------------------------------------------------------------------------


def _form(**extra: Any) -> dict[str, Any]:
    return {
        "first_name": "Jaylen",
        "last_name": "Carter",
        "date_of_birth": "2017-03-09",
        "dob_precision": "exact",
        "sex": "1",
        "hispanic": "3",
        "org_unit": "",
        **extra,
    }


@pytest.fixture
def adm_n(org) -> str:
    return str(org["ADM-N"].pk)


def test_the_page_shows_the_candidates_with_their_evidence(ines, jaylen, adm_n):
    response = ines.post("/people/new/", _form(org_unit=adm_n))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This is a different person from" in page
    assert f'value="{jaylen.pk}"' in page
    assert "date of birth matches" in page
    assert "Why is this a different person?" in page
    assert Person.objects.count() == 1


def test_the_page_creates_once_the_worker_confirms_with_a_reason(ines, jaylen, adm_n):
    response = ines.post(
        "/people/new/",
        _form(org_unit=adm_n, different_from=str(jaylen.pk), confirmation_reason="Cousin"),
    )
    assert response.status_code == 302
    assert Person.objects.count() == 2
    assert PossibleDuplicate.objects.get().status == PossibleDuplicate.Status.CONFIRMED_DIFFERENT


def test_the_page_asks_for_the_reason(ines, jaylen, adm_n):
    response = ines.post("/people/new/", _form(org_unit=adm_n, different_from=str(jaylen.pk)))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Person.objects.count() == 1


# --- Intake records the same confirmation --------------------------------------------------


def test_intakes_confirmed_new_person_is_recorded_as_different_per_pair(personas, client_for):
    hana = client_for(personas["hana"])
    first = report_body()
    first["people"] = [p | {"confirmed_new": True} for p in first["people"]]
    assert hana.post("/api/v1/reports/", first, content_type="application/json").status_code == 201
    assert not PossibleDuplicate.objects.exists()
    again = report_body()
    refused = hana.post("/api/v1/reports/", again, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "possible_duplicate"
    again["people"] = [p | {"confirmed_new": True} for p in again["people"]]
    assert hana.post("/api/v1/reports/", again, content_type="application/json").status_code == 201
    pairs = PossibleDuplicate.objects.all()
    assert pairs and all(p.status == PossibleDuplicate.Status.CONFIRMED_DIFFERENT for p in pairs)
    assert all(p.source == "confirmation" and p.reasons for p in pairs)


# --- The policy ----------------------------------------------------------------------------

_BASE = """
agency: {name: Test, time_zone: UTC}
actions: {person.view: view}
roles: {}
"""


def test_the_shipped_policy_sets_the_matching_thresholds(settings):
    from kinfolk.core.policy import load_policy

    matching = load_policy(settings.KINFOLK_POLICY_FILE).matching
    assert 0 < matching.possible_duplicate <= matching.likely_duplicate < 1


def test_a_policy_without_matching_thresholds_gets_the_defaults():
    assert parse_policy(_BASE).matching == MatchingPolicy()


@pytest.mark.parametrize(
    ("matching", "message"),
    [
        ("matching: 0.5", "matching: expected a mapping"),
        ("matching: {possible_duplicate: high}", "possible_duplicate: expected a number"),
        ("matching: {possible_duplicate: 1.5}", "must lie strictly between 0 and 1"),
        ("matching: {likely_duplicate: 0}", "must lie strictly between 0 and 1"),
        (
            "matching: {possible_duplicate: 0.95, likely_duplicate: 0.9}",
            "possible_duplicate must not exceed likely_duplicate",
        ),
        ("matching: {possible: 0.5}", "unknown key(s) possible"),
    ],
)
def test_bad_matching_thresholds_are_refused_with_a_clear_message(matching, message):
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(_BASE + matching, source="state.yaml")
