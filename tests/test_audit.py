"""The audit trail: one row per read, in the same transaction, chained, append-only."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from kinfolk.core import audit
from kinfolk.core.models import AuditEvent


def _rows_for(record_id: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(record_id=str(record_id)).order_by("id"))


def test_each_read_writes_exactly_one_audit_row(personas, person_in, client_for):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    client.get(f"/api/v1/persons/{person.pk}/")
    client.get(f"/people/{person.pk}/")
    rows = _rows_for(person.pk)
    assert [r.action for r in rows] == ["view", "view"]
    assert rows[0].username == "ines"
    assert rows[0].request_id and rows[0].request_id != rows[1].request_id


def test_the_audit_row_records_who_what_and_from_where(personas, person_in, client_for):
    person = person_in("ADM-N")
    client_for(personas["ines"]).get(
        f"/api/v1/persons/{person.pk}/",
        headers={"X-Request-ID": "req-12345678"},
        REMOTE_ADDR="10.1.2.3",
    )
    row = _rows_for(person.pk)[0]
    assert (row.request_id, row.client_ip, row.record_type) == (
        "req-12345678",
        "10.1.2.3",
        "person",
    )


def test_a_read_that_fails_leaves_no_row_claiming_success(
    personas, person_in, monkeypatch, client_for
):
    person = person_in("ADM-N")

    def explode(*args, **kwargs):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr("kinfolk.people.api.PersonOut.to_representation", explode)
    client = client_for(personas["ines"])
    client.raise_request_exception = False
    response = client.get(f"/api/v1/persons/{person.pk}/")
    assert response.status_code == 500
    assert not AuditEvent.objects.filter(record_id=str(person.pk), action="view").exists()


def test_writes_are_audited_with_the_fields_they_changed(personas, person_in, client_for):
    person = person_in("ADM-N", middle_name="")
    client_for(personas["ines"]).patch(
        f"/api/v1/persons/{person.pk}/",
        {"middle_name": "Lee", "suffix": "Jr"},
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    update = AuditEvent.objects.get(record_id=str(person.pk), action="update")
    assert update.fields == ["middle_name", "suffix"]
    assert update.detail["changes"]["middle_name"] == ["", "Lee"]


def test_the_chain_verifies_when_untouched(personas, person_in, client_for):
    person = person_in("ADM-N")
    for _ in range(3):
        client_for(personas["ines"]).get(f"/api/v1/persons/{person.pk}/")
    result = audit.verify()
    assert result.ok and result.rows == AuditEvent.objects.count()


def _tamper(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off; the chain must still give the tampering away.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_verification_finds_a_row_changed_behind_the_applications_back(
    personas, person_in, client_for
):
    person = person_in("ADM-N")
    for _ in range(3):
        client_for(personas["ines"]).get(f"/api/v1/persons/{person.pk}/")
    victim = _rows_for(person.pk)[1]
    _tamper("UPDATE core_auditevent SET username = %s WHERE id = %s", ["somebody-else", victim.id])
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_id == victim.id


def test_verification_finds_a_deleted_row(personas, person_in, client_for):
    person = person_in("ADM-N")
    for _ in range(3):
        client_for(personas["ines"]).get(f"/api/v1/persons/{person.pk}/")
    rows = _rows_for(person.pk)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [rows[1].id])
    result = audit.verify()
    assert not result.ok
    following = AuditEvent.objects.filter(id__gt=rows[1].id).order_by("id").first()
    assert following is not None and result.first_bad_id == following.id


def test_the_application_offers_no_way_to_change_a_row(db):
    row = audit.record(user=None, action="login_failed")
    assert not hasattr(audit, "update") and not hasattr(audit, "delete")
    assert AuditEvent.objects.get(pk=row.pk).hash == audit.compute_hash(row)


@pytest.mark.postgres
def test_postgres_refuses_update_of_an_audit_row(db):
    row = audit.record(user=None, action="login_failed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(username="x")


@pytest.mark.postgres
def test_postgres_refuses_delete_of_an_audit_row(db):
    row = audit.record(user=None, action="login_failed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()


def test_kinfolk_audit_verify_command_reports_the_chain(
    personas, person_in, client_for, transactional_db
):
    # The command runs in a fresh process against the same database, so use committed data.
    result = subprocess.run(
        [sys.executable, "-m", "kinfolk.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=_env_for_subprocess(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "audit chain intact" in result.stdout


def _env_for_subprocess() -> dict[str, str]:
    import os

    from django.conf import settings

    env = dict(os.environ)
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{name}"
    else:
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    return env
