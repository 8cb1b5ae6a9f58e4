"""The registry's person-matching index: one ``kinfolk.matching.SearchIndex`` file per database.

Each person is one index record (record id = the person's id) plus one per other name
they are known by (``<person id>:<name id>``) and one per record merged into them
(``<person id>:<merged id>``), so an alias, former name or a merged record's spelling is
found like the main one. Only the last four digits of an SSN go into the index: the file sits
outside the database and its encryption at rest, and a full number is matched in the
database by its digest instead.

The services call ``reindex_on_commit`` so the index changes only once the change is
committed; ``rebuild`` fills it from the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL

from kinfolk.core.prefetch import set_prefetched
from kinfolk.matching import PersonRecord, SearchIndex
from kinfolk.people.models import Address, Identifier, Person, PersonName, Phone

_SEX = {"1": "M", "2": "F"}
_CHUNK = 2000
_lock = threading.Lock()
_open: SearchIndex | None = None


def index_path() -> Path:
    return Path(settings.KINFOLK_MATCH_INDEX)


def get_index(*, create: bool = True) -> SearchIndex | None:
    """The index for the configured path (one shared instance); None if absent and not created.

    Raises ``IndexFormatError`` for a file built by an incompatible version of the matcher.
    """
    global _open
    path = index_path()
    with _lock:
        if _open is not None and _open.path == str(path) and path.exists():
            return _open
        if _open is not None:
            _open.close()
            _open = None
        if not create and not path.exists():
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        _open = SearchIndex(path)
        return _open


def close_index() -> None:
    """Close the shared index (it reopens on next use), e.g. before replacing its file."""
    with _lock:
        close_index_locked()


def close_index_locked() -> None:
    global _open
    if _open is not None:
        _open.close()
        _open = None


def alias_record_id(person_id: Any, name_id: Any) -> str:
    return f"{person_id}:{name_id}"


def person_id_of(record_id: str) -> str:
    return record_id.split(":", 1)[0]


def records_for(person: Person) -> Iterator[PersonRecord]:
    """The index records of one person: their own name, then each other name."""
    ssn = next((i.last4 for i in person.identifiers.all() if i.kind == Identifier.Kind.SSN), "")
    current = [a for a in person.addresses.all() if a.valid_to is None]
    address = max(current, key=lambda a: str(a.valid_from or ""), default=None)
    phone = next(iter(sorted(person.phones.all(), key=lambda p: p.created_at)), None)
    base = PersonRecord(
        record_id=str(person.pk),
        first_name=person.first_name,
        middle_name=person.middle_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        sex=_SEX.get(person.sex, ""),
        ssn=ssn,
        street=address.street if address else "",
        city=address.city if address else "",
        state=address.state if address else "",
        postcode=address.postcode if address else "",
        phone=phone.number if phone else "",
    )
    yield base
    for name in person.names.all():
        yield replace(
            base,
            record_id=alias_record_id(person.pk, name.pk),
            first_name=name.first_name or person.first_name,
            middle_name=name.middle_name,
            last_name=name.last_name or person.last_name,
        )
    # A record merged into this one keeps its own spelling of the name on itself (only its
    # links move): it is one more name this person is known by, so a search under it still
    # finds them. An unmerge drops these again.
    for merged in merged_records_of(person):
        yield replace(
            base,
            record_id=alias_record_id(person.pk, merged.pk),
            first_name=merged.first_name,
            middle_name=merged.middle_name,
            last_name=merged.last_name,
        )


def merged_records_of(person: Person) -> list[Person]:
    """Every record merged into this one, directly or through a record merged into it."""
    found: list[Person] = []
    todo = list(person.merged_from.all())
    while todo:
        merged = todo.pop(0)
        found.append(merged)
        todo.extend(merged.merged_from.all())
    return found


# What ``records_for`` reads of a person besides the row itself, and the table behind each.
PARTS: tuple[tuple[str, type[Any], str], ...] = (
    ("names", PersonName, "person_id"),
    ("identifiers", Identifier, "person_id"),
    ("addresses", Address, "person_id"),
    ("phones", Phone, "person_id"),
    ("merged_from", Person, "merged_into_id"),
)
_PARTS_FLAGS = "parts_present"


def parts_present(parts: Iterable[str] | None = None) -> RawSQL:
    """A person query's column: bit ``1 << i`` set when the person has any rows of
    ``PARTS[i]`` (of ``parts``, default all), each found by one EXISTS in the same query."""
    q = connection.ops.quote_name
    person = f"{q(Person._meta.db_table)}.{q(str(Person._meta.pk.column))}"
    wanted = set(parts) if parts is not None else {part for part, _, _ in PARTS}
    # Names from the models only: nothing of the caller's goes into this SQL. The alias keeps
    # a record merged into this one (a person row itself) apart from the outer person.
    flags = " + ".join(
        f"(CASE WHEN EXISTS (SELECT 1 FROM {q(model._meta.db_table)} part "  # noqa: S608
        f"WHERE part.{q(column)} = {person}) THEN {1 << bit} ELSE 0 END)"
        for bit, (part, model, column) in enumerate(PARTS)
        if part in wanted
    )
    return RawSQL(flags, ())  # noqa: S611


def with_part_flags(queryset: QuerySet[Person]) -> QuerySet[Person]:
    """The people of ``queryset``, each marked with which of ``PARTS`` they have any rows of
    (for ``prefetch_parts``), in the same query instead of a query per part."""
    return queryset.annotate(**{_PARTS_FLAGS: parts_present()})


def prefetch_parts(people: list[Person]) -> list[Person]:
    """Load what ``records_for`` reads of each person, as ``prefetch_related(*PARTS)`` would,
    querying a part only for the people ``with_part_flags`` found to have some.

    A person with no names, identifiers, addresses, phones or merged records (everyone a
    filing has just created) then costs no query beyond their own row.
    """
    for bit, (part, _, _) in enumerate(PARTS):
        holders = [p for p in people if getattr(p, _PARTS_FLAGS) & (1 << bit)]
        if holders:
            prefetch_related_objects(holders, part)
        for person in people:
            if not getattr(person, _PARTS_FLAGS) & (1 << bit):
                set_prefetched(person, part, [])
    return people


def _people(ids: Iterable[Any] | None = None) -> Iterator[Person]:
    if ids is not None:
        wanted = list(ids)
        if len(wanted) <= _CHUNK:
            # The few people of one change: a plain query (a chunked iterator opens a
            # server-side cursor on PostgreSQL, three more round trips for one fetch), and
            # their parts read only where they have some.
            qs = with_part_flags(Person.objects.filter(pk__in=wanted).order_by("pk"))
            yield from prefetch_parts(list(qs))
            return
    qs = Person.objects.prefetch_related(*(part for part, _, _ in PARTS))
    if ids is not None:
        qs = qs.filter(pk__in=wanted)
    yield from qs.order_by("pk").iterator(chunk_size=_CHUNK)


def _indexable(person: Person) -> bool:
    return getattr(person, "merged_into_id", None) is None


def reindex(person_ids: Iterable[Any], *, drop: Iterable[str] = ()) -> None:
    """Bring these people's records up to date; ``drop`` names index records now gone."""
    index = get_index()
    assert index is not None  # noqa: S101 - get_index creates it
    for record_id in drop:
        index.remove(record_id)
    ids = {str(pk) for pk in person_ids}
    found: set[str] = set()
    current: list[PersonRecord] = []
    for person in _people(ids):
        found.add(str(person.pk))
        records = list(records_for(person))
        if _indexable(person):
            current.extend(records)
        else:
            for record in records:
                index.remove(record.record_id)
    # One write of the index file for them all.
    index.add_many(current)
    for missing in ids - found:
        index.remove(missing)


class _Batch:
    """People to reindex together once the transaction commits (one read, one index write)."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.drop: list[str] = []
        # What Django's log names when a robust callback fails.
        self.__qualname__ = "reindex_on_commit"

    def __call__(self) -> None:
        reindex(self.ids, drop=self.drop)


# The batch that reindex requests join while ``batched()`` is open, else None.
_gathering: ContextVar[_Batch | None] = ContextVar("kinfolk_reindex_batch", default=None)


@contextmanager
def batched() -> Iterator[None]:
    """Gather the reindex requests of one unit of work (a report naming three new people)
    and queue a single reindex for them all when it ends, instead of one per person.

    If the work raises, nothing is queued: its transaction is rolled back. A person whose
    creation was rolled back with a savepoint inside is merely looked up and not found,
    because ``reindex`` reads the committed state.
    """
    if _gathering.get() is not None:
        yield  # already inside a batch: it covers this work too
        return
    batch = _Batch()
    token = _gathering.set(batch)
    try:
        yield
    finally:
        _gathering.reset(token)
    if batch.ids or batch.drop:
        transaction.on_commit(batch, robust=True)


def reindex_on_commit(*person_ids: Any, drop: Iterable[str] = ()) -> None:
    """Reindex once the current transaction commits (at once outside one).

    Inside ``batched()`` the request joins that batch instead.
    """
    gathering = _gathering.get()
    batch = gathering or _Batch()
    batch.ids.extend(person_ids)
    batch.drop.extend(drop)
    if gathering is None:
        # Robust: the change is committed already; a failed index update is logged (ids only)
        # and repaired by `rebuild_match_index`, rather than turning a saved change into an
        # error.
        transaction.on_commit(batch, robust=True)


def rebuild() -> int:
    """Replace the index file with one built from every person in the database."""
    path = index_path()
    with _lock:
        close_index_locked()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    index = get_index()
    assert index is not None  # noqa: S101 - get_index creates it
    return index.add_many(
        record for person in _people() if _indexable(person) for record in records_for(person)
    )
