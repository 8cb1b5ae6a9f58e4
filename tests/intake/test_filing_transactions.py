"""Filing a report is one transaction, with no savepoint inside that nothing returns to.

The API's filing runs without savepoints of its own (an error ends the request, which rolls
back); the intake page's, which shows the errors and lets the worker file again in the same
request transaction, keeps one. Either way a refused filing leaves nothing behind, and a
filed report is written once, as filed.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kinfolk.core.errors import ValidationFailed
from kinfolk.core.models import AuditEvent, OrgUnit
from kinfolk.intake import services
from kinfolk.intake.models import Report, ReportEvent
from kinfolk.people import matchindex
from kinfolk.people.models import Person
from tests.intake.conftest import report_body


def _new(people: list[dict[str, Any]], *, last_confirmed: bool = True) -> list[dict[str, Any]]:
    out = [p | {"confirmed_new": True} for p in people]
    out[-1]["confirmed_new"] = last_confirmed
    return out


@pytest.fixture
def known_parent(person_in) -> Person:
    """Someone in the registry the call's parent looks like (another county's record)."""
    return person_in(
        "CED-1", first_name="Ramon", last_name="Ortega", date_of_birth=date(1988, 9, 30)
    )


@pytest.mark.parametrize("idempotency_key", [True, False])
def test_a_filing_refused_at_its_last_person_leaves_nothing_behind(
    personas, client_for, known_parent, django_capture_on_commit_callbacks, idempotency_key
):
    client = client_for(personas["hana"])
    audit_rows = AuditEvent.objects.count()
    headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotency_key else {}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/api/v1/reports/",
            # The two children are created before the parent is found to look known.
            report_body(people=_new(report_body()["people"], last_confirmed=False)),
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 400
    assert response.json()["code"] == "possible_duplicate"
    assert list(Person.objects.all()) == [known_parent]
    assert not Report.objects.exists()
    assert AuditEvent.objects.count() == audit_rows
    assert callbacks == []


def _file(user: Any, people: list[services.PersonEntry], **kwargs: Any) -> Report:
    return services.report_file(
        user=user,
        org_unit=OrgUnit.objects.get(code="ADM-N"),
        received_at=timezone.now(),
        channel="phone",
        narrative="Neighbour heard shouting.",
        reporter={"source": "10"},
        people=people,
        allegations=[{"child": "c1", "maltreatment_type": "2"}],
        **kwargs,
    )


def _entries(*, confirm_parent: bool) -> list[services.PersonEntry]:
    return [
        services.PersonEntry(
            role=p["role"],
            ref=p["ref"],
            values={
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "date_of_birth": date.fromisoformat(p["date_of_birth"]),
                "sex": p["sex"],
            },
            confirmed_new=confirm_parent or p["ref"] != "p1",
        )
        for p in report_body()["people"]
    ]


def test_the_intake_page_can_show_a_refused_filing_and_then_file_it(personas, known_parent):
    """As the intake page does: the error is shown, and the worker's corrected filing goes on
    in the same transaction; what the refused one had created is gone."""
    hana = personas["hana"]
    with transaction.atomic():
        with pytest.raises(ValidationFailed):
            _file(hana, _entries(confirm_parent=False))
        assert list(Person.objects.all()) == [known_parent]
        report = _file(hana, _entries(confirm_parent=True))
    assert Report.objects.get() == report
    assert Person.objects.count() == 1 + 3


def test_without_a_savepoint_a_refused_filing_dooms_the_callers_transaction(personas, known_parent):
    with transaction.atomic():
        with pytest.raises(ValidationFailed):
            _file(personas["hana"], _entries(confirm_parent=False), savepoint=False)
        # Only for a caller that goes no further, as the API's request does not.
        assert connection.needs_rollback


def test_a_filed_report_is_written_once_as_filed(personas, client_for):
    response = client_for(personas["hana"]).post(
        "/api/v1/reports/",
        report_body(people=_new(report_body()["people"])),
        content_type="application/json",
    )
    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert [(h.history_type, h.status) for h in report.history.all()] == [("+", "submitted")]
    assert list(ReportEvent.objects.values_list("move", "from_status", "to_status")) == [
        ("file", "draft", "submitted")
    ]
    assert response.json()["version"] == report.version == 1


def _filing_queries(client: Any, people: list[dict[str, Any]]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/reports/", report_body(people=people), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    return [q["sql"] for q in queries.captured_queries]


def test_a_filing_of_three_new_people_reads_the_users_reach_once(personas, client_for):
    sql = _filing_queries(client_for(personas["hana"]), _new(report_body()["people"]))
    assert sum("core_assignment" in q for q in sql) == 1


def test_a_call_naming_a_new_person_does_not_look_for_a_shared_household(personas, client_for):
    sql = _filing_queries(client_for(personas["hana"]), _new(report_body()["people"]))
    assert not any("people_householdmember" in q for q in sql)


def test_the_apis_filing_opens_one_savepoint_for_its_idempotency_key(personas, client_for):
    client = client_for(personas["hana"])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/reports/",
            report_body(people=_new(report_body()["people"])),
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 201
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # The request's own (the test runs in a transaction) and the idempotency key's.
    assert len(savepoints) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_form_filed_twice_at_once_keeps_the_first_filing_and_no_people_of_the_second(personas):
    hana = personas["hana"]
    first_filed = threading.Event()
    returned: list[Report] = []

    def first() -> None:
        try:
            with transaction.atomic():
                returned.append(_file(hana, _entries(confirm_parent=True), draft_key="call-9"))
                first_filed.set()
                # The second submission now finds no report for the key and goes ahead.
                time.sleep(1.0)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_filed.wait(timeout=30)
    # It creates its own three people, then waits on the first one's key and is refused it.
    second = _file(hana, _entries(confirm_parent=True), draft_key="call-9")
    thread.join(timeout=30)
    assert second == returned[0] == Report.objects.get()
    assert Person.objects.count() == 3
    assert set(Person.objects.values_list("pk", flat=True)) == {
        p.person_id for p in second.participants.all()
    }
    index = matchindex.get_index(create=False)
    assert index is None or all(str(p.pk) in index for p in Person.objects.all())
