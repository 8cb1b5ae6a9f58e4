"""The audit trail: append-only rows, each chained to the one before by a SHA-256 hash.

Rows are written in the caller's transaction, so an action that rolls back leaves no
row claiming it happened. The chain makes tampering visible: changing, inserting or
deleting a row breaks the hash of every row after it (``kinfolk audit verify``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kinfolk.core import context, transactions
from kinfolk.core.models import AuditEvent, User

GENESIS = "0" * 64
# Any fixed number: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK = 7_281_001


def _canonical(event: AuditEvent) -> bytes:
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        "prev": event.prev_hash,
        "at": at,
        "user": event.user_id,
        "username": event.username,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "fields": event.fields,
        "detail": event.detail,
        "reason": event.reason,
        "break_glass": event.break_glass,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    # SQLite: transactions are IMMEDIATE (settings), so the writer already holds the lock.


class _Head:
    """The hash of the last row this transaction appended, queued as a do-nothing commit
    callback so that it is forgotten exactly when that row could be gone (see
    ``core.transactions``). While it stands, this transaction holds the chain's lock (taken
    before that row) and nobody else can have appended after it."""

    def __init__(self, hash: str) -> None:
        self.hash = hash

    def __call__(self) -> None:
        pass


def _known_head() -> str | None:
    head: _Head | None = getattr(connection, "_kinfolk_audit_head", None)
    if head is not None and transactions.queued_in(head) is not None:
        return head.hash
    return None


def _remember_head(hash: str) -> None:
    head: _Head | None = getattr(connection, "_kinfolk_audit_head", None)
    sids = transactions.queued_in(head) if head is not None else None
    # Reused only when every savepoint open now was open when it was queued, so a rollback
    # that takes the new row away takes the head with it.
    if head is not None and sids is not None and transactions.open_savepoints() <= sids:
        head.hash = hash
        return
    head = _Head(hash)
    transaction.on_commit(head)
    connection._kinfolk_audit_head = head  # type: ignore[attr-defined]


def _chain_head() -> str:
    """The hash of the newest row, with the chain locked for this transaction."""
    known = _known_head()
    if known is not None:
        return known
    _lock_chain()
    # A plain query: this runs for every audited action, and the ORM's query building
    # costs more than the lookup.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hash FROM {connection.ops.quote_name(AuditEvent._meta.db_table)} "  # noqa: S608
            "ORDER BY id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else GENESIS


class _Pending:
    """An audit row recorded inside ``deferred()``, written when it ends. Queued as a
    do-nothing commit callback: while it is still queued, no savepoint it was recorded in
    has been rolled back (see ``core.transactions``), so the action it records stands."""

    def __init__(self, event: AuditEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        pass


# The rows waiting for the end of the current ``deferred()`` block, else None.
_pending: ContextVar[list[_Pending] | None] = ContextVar("kinfolk_audit_pending", default=None)


def _append(events: Sequence[AuditEvent]) -> None:
    """Chain and insert rows in the current transaction, in order, under the chain's lock."""
    # The head first: it takes the chain's lock, so ``at`` follows the order of the chain.
    prev_hash = _chain_head()
    for event in events:
        event.at = timezone.now()
        event.prev_hash = prev_hash
        event.hash = prev_hash = compute_hash(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(events)
    if connection.in_atomic_block:
        _remember_head(prev_hash)


@contextmanager
def deferred() -> Iterator[None]:
    """Write the audit rows of a unit of work together when it ends, not one by one.

    Inside the block ``record`` keeps each row in memory; at the end, still inside the
    caller's transaction, the rows that stand (none recorded in a savepoint since rolled
    back) are chained and inserted in one statement. The chain's lock, which serialises
    every writer, is then held only from there to the commit, not for the whole request.
    If the transaction is already doomed (an error marked it for rollback), nothing is
    written, exactly as the rows written one by one would have been rolled back.
    """
    if _pending.get() is not None or not connection.in_atomic_block:
        yield  # already deferred by an outer block, or no transaction to defer within
        return
    pending: list[_Pending] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if connection.in_atomic_block and not connection.needs_rollback:
            standing = [p.event for p in pending if transactions.queued_in(p) is not None]
            if standing:
                _append(standing)


def record(
    *,
    user: User | None,
    action: str,
    record_type: str = "",
    record_id: Any = "",
    fields: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
    reason: str = "",
    break_glass: bool = False,
) -> AuditEvent:
    """Append one audit row in the current transaction (opening one if there is none).

    Inside ``deferred()`` the row is written when that block ends (``at``, the hashes and
    the id are set then).
    """
    ctx = context.current()
    event = AuditEvent(
        user=user if user is not None and user.is_authenticated else None,
        username=getattr(user, "username", "") or "",
        action=action,
        record_type=record_type,
        record_id=str(record_id)[:64] if record_id else "",
        fields=sorted(fields),
        detail=detail or {},
        reason=reason,
        break_glass=break_glass,
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
    )
    pending = _pending.get()
    if pending is not None and connection.in_atomic_block:
        # Kept as it is now: the caller may go on changing the dict it passed.
        event.detail = copy.deepcopy(event.detail)
        marker = _Pending(event)
        transaction.on_commit(marker)
        pending.append(marker)
        return event
    # No savepoint of its own: a failed append fails the caller's block anyway, and this runs
    # for every audited action.
    with transaction.atomic(savepoint=False):
        _append([event])
    return event


@dataclass(frozen=True)
class VerifyResult:
    rows: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def verify(events: Iterable[AuditEvent] | None = None) -> VerifyResult:
    """Walk the chain in id order; report the first row whose link or hash does not hold."""
    if events is None:
        events = AuditEvent.objects.order_by("id").iterator(chunk_size=2000)
    expected_prev = GENESIS
    count = 0
    for event in events:
        count += 1
        if event.prev_hash != expected_prev:
            return VerifyResult(count, False, event.id, "link to the previous row is broken")
        if compute_hash(event) != event.hash:
            return VerifyResult(count, False, event.id, "row content does not match its hash")
        expected_prev = event.hash
    return VerifyResult(count, True)
