"""State that lives exactly as long as the work of the current transaction.

Django queues ``transaction.on_commit`` callbacks with the savepoints open at the time; it
runs them on commit, forgets them all on rollback, and drops those queued inside a savepoint
that is rolled back. So while a callback is still queued, every savepoint it was queued inside
that has ended since was released, not rolled back: what was done when it was queued is
still part of the transaction, and a later rollback that drops it undoes what is done now.
The audit chain keeps its head this way, instead of asking the database again for every
row of a filing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def queued_in(func: Callable[[], object]) -> frozenset[str | None] | None:
    """The savepoints ``func`` was queued inside, while it is still queued on the current
    transaction; None when it ran, was dropped by a rollback, or nothing is open."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    # Newest first: the callback sought is nearly always one of the last queued.
    for sids, queued, _robust in reversed(connection.run_on_commit):
        if queued is func:
            return frozenset(sids)
    return None


def open_savepoints() -> frozenset[str | None]:
    """The savepoints open now (None stands for an atomic block without one)."""
    return frozenset(transaction.get_connection().savepoint_ids)
