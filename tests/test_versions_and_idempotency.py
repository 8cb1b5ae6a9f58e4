"""Nothing is lost: If-Match on updates, idempotent POSTs, and races between two clients."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from kinfolk.core.models import IdempotencyKey
from kinfolk.people.models import Person

NEW_PERSON = {
    "first_name": "Marisol",
    "last_name": "Quintero",
    "org_unit": "ADM-N",
    "date_of_birth": "2019-04-02",
    "sex": "2",
}


def _patch(client: Any, person: Person, body: dict[str, Any], if_match: str | None) -> Any:
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(
        f"/api/v1/persons/{person.pk}/", body, content_type="application/json", headers=headers
    )


def test_a_read_carries_the_version_as_etag(personas, person_in, client_for):
    person = person_in("ADM-N")
    response = client_for(personas["ines"]).get(f"/api/v1/persons/{person.pk}/")
    assert response["ETag"] == '"1"'


def test_an_update_without_if_match_is_refused_with_428(personas, person_in, client_for):
    person = person_in("ADM-N", middle_name="")
    response = _patch(client_for(personas["ines"]), person, {"middle_name": "Ray"}, None)
    assert response.status_code == 428
    assert response.json()["code"] == "if_match_required"
    person.refresh_from_db()
    assert (person.middle_name, person.version) == ("", 1)


def test_a_malformed_if_match_is_a_400(personas, person_in, client_for):
    person = person_in("ADM-N")
    response = _patch(client_for(personas["ines"]), person, {"middle_name": "Ray"}, "banana")
    assert response.status_code == 400


def test_a_stale_update_gets_412_with_the_current_record(personas, person_in, client_for):
    person = person_in("ADM-N", middle_name="")
    client = client_for(personas["ines"])
    assert _patch(client, person, {"middle_name": "Ray"}, '"1"').status_code == 200
    stale = _patch(client, person, {"middle_name": "Roy"}, '"1"')
    assert stale.status_code == 412
    assert stale.json()["current"]["middle_name"] == "Ray"
    assert stale.json()["current"]["version"] == 2
    assert stale["ETag"] == '"2"'
    person.refresh_from_db()
    assert person.middle_name == "Ray"


def test_an_update_bumps_the_version_and_keeps_history(personas, person_in, client_for):
    person = person_in("ADM-N", middle_name="")
    client = client_for(personas["ines"])
    response = _patch(client, person, {"middle_name": "Ray"}, '"1"')
    assert response.json()["version"] == 2
    history = client.get(f"/api/v1/persons/{person.pk}/history/").json()
    assert history[0]["version"] == 2 and history[0]["fields"] == ["middle_name"]


def test_a_retried_post_with_the_same_key_files_once(personas, client_for):
    client = client_for(personas["ines"])
    headers = {"Idempotency-Key": "intake-7f3a"}
    first = client.post(
        "/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers
    )
    again = client.post(
        "/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Person.objects.filter(last_name="Quintero").count() == 1


def test_the_same_key_with_a_different_body_is_a_422(personas, client_for):
    client = client_for(personas["ines"])
    headers = {"Idempotency-Key": "intake-7f3b"}
    client.post("/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers)
    other = client.post(
        "/api/v1/persons/",
        {**NEW_PERSON, "first_name": "Maria"},
        content_type="application/json",
        headers=headers,
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Person.objects.filter(last_name="Quintero").count() == 1


def test_a_failed_post_does_not_burn_the_key(personas, client_for):
    client = client_for(personas["ines"])
    headers = {"Idempotency-Key": "intake-7f3c"}
    bad = client.post(
        "/api/v1/persons/",
        {**NEW_PERSON, "sex": "7"},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 400
    good = client.post(
        "/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers
    )
    assert good.status_code == 201


def test_keys_belong_to_one_user(personas, client_for):
    headers = {"Idempotency-Key": "shared-key-1"}
    a = client_for(personas["ines"]).post(
        "/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers
    )
    # Sam sees Ines's new record, so he confirms his is someone else (search first).
    b = client_for(personas["sam"]).post(
        "/api/v1/persons/",
        {**NEW_PERSON, "different_from": [a.json()["id"]], "confirmation_reason": "Namesake"},
        content_type="application/json",
        headers=headers,
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert IdempotencyKey.objects.count() == 2


def _in_threads(*calls: Any) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_clients_updating_at_once_one_wins_the_other_gets_412(personas, person_in, client_for):
    person = person_in("ADM-N", middle_name="")
    a, b = client_for(personas["ines"]), client_for(personas["sam"])
    results = _in_threads(
        lambda: _patch(a, person, {"middle_name": "From A"}, '"1"').status_code,
        lambda: _patch(b, person, {"middle_name": "From B"}, '"1"').status_code,
    )
    assert sorted(results) == [200, 412]
    person.refresh_from_db()
    assert person.version == 2
    assert person.middle_name == ("From A" if results[0] == 200 else "From B")


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_file_once(personas, client_for):
    clients = [client_for(personas["ines"]) for _ in range(4)]
    headers = {"Idempotency-Key": "race-key-1"}
    results = _in_threads(
        *[
            (
                lambda c=c: c.post(
                    "/api/v1/persons/", NEW_PERSON, content_type="application/json", headers=headers
                )
            )
            for c in clients
        ]
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert Person.objects.filter(last_name="Quintero").count() == 1


def _racing_view(refuse_by: str) -> Any:
    """An endpoint whose first call is overtaken: while it runs, a second call with the same
    Idempotency-Key runs to completion and succeeds; the first is then refused (as a filing is
    refused once the other's new record makes it a possible duplicate)."""
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory, force_authenticate

    from kinfolk.core.api import ApiView
    from kinfolk.core.errors import ValidationFailed

    class Racing(ApiView):
        calls = 0

        def post(self, request: Any) -> Any:
            type(self).calls += 1
            if type(self).calls == 1:
                other = APIRequestFactory().post(
                    "/race/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="race-key-2"
                )
                force_authenticate(other, user=request.user)
                # The twin runs on its own connection and commits while this call is under way.
                answers = _in_threads(lambda: Racing.as_view()(other))
                assert answers[0].status_code == 201
                if refuse_by == "raising":
                    raise ValidationFailed("A possible duplicate.", code="possible_duplicate")
                return Response({"code": "possible_duplicate"}, status=400)
            return Response({"id": 7}, status=201)

    return Racing


# Two connections writing at once: SQLite would serialise them (the twin waits for the lock).
@pytest.mark.postgres
@pytest.mark.parametrize("refuse_by", ["returning", "raising"])
@pytest.mark.django_db(transaction=True)
def test_a_retry_refused_because_its_twin_succeeded_gets_the_twins_answer(personas, refuse_by):
    from rest_framework.test import APIRequestFactory, force_authenticate

    view = _racing_view(refuse_by)
    request = APIRequestFactory().post(
        "/race/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="race-key-2"
    )
    force_authenticate(request, user=personas["ines"])
    response = view.as_view()(request)
    assert view.calls == 2
    assert response.status_code == 201
    assert response.data == {"id": 7}
    assert response["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.filter(key="race-key-2").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refusal_without_a_twin_is_answered_as_it_is(personas):
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory, force_authenticate

    from kinfolk.core.api import ApiView

    class Refusing(ApiView):
        def post(self, request: Any) -> Any:
            return Response({"code": "possible_duplicate"}, status=400)

    request = APIRequestFactory().post(
        "/refuse/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="refuse-key"
    )
    force_authenticate(request, user=personas["ines"])
    response = Refusing.as_view()(request)
    assert response.status_code == 400
    assert not IdempotencyKey.objects.filter(key="refuse-key").exists()
