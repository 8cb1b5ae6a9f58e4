"""Audit rows of one API write are written together at its end, under the chain's lock.

``audit.deferred()`` keeps the rows in memory until the block ends (still inside the
transaction), then chains and inserts them in one statement. What must still hold: no row
claims an action whose savepoint was rolled back, every row of the request lands, in order,
and the chain verifies; a doomed transaction writes nothing.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kinfolk.core import audit
from kinfolk.core.models import AuditEvent
from tests.intake.conftest import report_body

pytestmark = pytest.mark.django_db(transaction=True)


def _count() -> int:
    return AuditEvent.objects.count()


def test_rows_wait_for_the_end_of_the_block_and_land_in_order_on_one_insert():
    before = _count()
    with transaction.atomic():
        with audit.deferred():
            for n in range(5):
                audit.record(user=None, action="view", record_type="t", record_id=f"r{n}")
            assert _count() == before  # nothing written yet: the chain is not locked
        assert _count() == before + 5
    rows = list(AuditEvent.objects.order_by("-id")[:5])[::-1]
    assert [r.record_id for r in rows] == [f"r{n}" for n in range(5)]
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    assert audit.verify().ok


def test_the_block_writes_its_rows_with_one_insert():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, audit.deferred():
            for n in range(4):
                audit.record(user=None, action="view", record_type="t", record_id=f"q{n}")
    inserts = [
        q
        for q in queries.captured_queries
        if "core_auditevent" in q["sql"] and "INSERT" in q["sql"]
    ]
    assert len(inserts) == 1


def test_a_row_recorded_in_a_savepoint_that_rolls_back_is_not_written():
    with transaction.atomic(), audit.deferred():
        audit.record(user=None, action="view", record_type="t", record_id="kept-1")
        try:
            with transaction.atomic():
                audit.record(user=None, action="update", record_type="t", record_id="undone")
                raise ValueError("the update failed")
        except ValueError:
            pass
        with transaction.atomic():  # released, not rolled back: its row stands
            audit.record(user=None, action="view", record_type="t", record_id="kept-2")
    ids = set(AuditEvent.objects.values_list("record_id", flat=True))
    assert {"kept-1", "kept-2"} <= ids
    assert "undone" not in ids
    assert audit.verify().ok


def test_a_doomed_transaction_writes_nothing():
    before = _count()
    with pytest.raises(RuntimeError):
        with transaction.atomic(), audit.deferred():
            audit.record(user=None, action="view", record_type="t", record_id="doomed")
            raise RuntimeError("boom")
    assert _count() == before


def test_the_caller_changing_its_dict_afterwards_does_not_change_the_row():
    detail = {"shown": ["a"]}
    with transaction.atomic(), audit.deferred():
        audit.record(user=None, action="search", record_type="t", record_id="d", detail=detail)
        detail["shown"].append("b")
    row = AuditEvent.objects.get(record_id="d")
    assert row.detail == {"shown": ["a"]}
    assert audit.verify().ok


def test_a_filing_takes_the_chain_lock_only_at_its_end(personas, client_for):
    """Every audit row of a filing is written after its last write to any other table."""
    client = client_for(personas["hana"])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/reports/",
            report_body(people=[p | {"confirmed_new": True} for p in report_body()["people"]]),
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 201, response.content
    sql = [q["sql"] for q in queries.captured_queries]
    audit_writes = [i for i, s in enumerate(sql) if "INSERT" in s and "core_auditevent" in s]
    other_writes = [
        i
        for i, s in enumerate(sql)
        if s.startswith(("INSERT", "UPDATE"))
        and "core_auditevent" not in s
        and "core_idempotencykey" not in s
    ]
    assert len(audit_writes) == 1
    assert audit_writes[0] > max(other_writes)
    # Each person searched, each created, the report filed: all in that one insert.
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("search") >= 3 and actions.count("create") >= 4
    assert audit.verify().ok
