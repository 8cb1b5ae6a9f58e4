"""Every read of the people registry, filtered by the access policy and audited."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Field, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.options import Options

from kinfolk.core import access, audit, crypto
from kinfolk.core.errors import AccessDenied
from kinfolk.core.models import User
from kinfolk.core.policy import matching_policy
from kinfolk.matching import MatchModel, PersonRecord, Score, SearchIndex, score_pair
from kinfolk.matching.index import IndexFormatError
from kinfolk.people import matchindex, search
from kinfolk.people.explain import explain_score
from kinfolk.people.models import (
    Address,
    Household,
    Identifier,
    Person,
    PersonMerge,
    PersonName,
    Phone,
    PossibleDuplicate,
    Relationship,
)

MAX_CANDIDATES = 400
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class SearchQuery:
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    sex: str = ""
    identifier: str = ""
    # Address pieces and a phone number: evidence for the matching index's score (a
    # sibling at the same address is told apart by the guards, not confused).
    street: str = ""
    city: str = ""
    postcode: str = ""
    phone: str = ""

    def split_name(self) -> tuple[str, str]:
        """``first last`` or ``last, first`` in one box, or the two fields."""
        if self.first_name or self.last_name:
            return self.first_name, self.last_name
        text = self.name.strip()
        if "," in text:
            last, _, first = text.partition(",")
            return first.strip(), last.strip()
        parts = text.split()
        if len(parts) == 1:
            return "", parts[0]
        return " ".join(parts[:-1]), parts[-1] if parts else ""

    @property
    def empty(self) -> bool:
        return not (
            self.name.strip()
            or self.first_name
            or self.last_name
            or self.date_of_birth
            or self.identifier
            or self.street.strip()
            or self.city.strip()
            or self.postcode.strip()
            or self.phone.strip()
        )


@dataclass(frozen=True)
class SearchResult:
    person: Person
    score: float
    reasons: list[str]

    @property
    def masked_ssn(self) -> str:
        for ident in self.person.identifiers.all():
            if ident.kind == Identifier.Kind.SSN:
                return ident.masked
        return ""


def _base(user: User, action: str) -> QuerySet[Person]:
    return access.visible(user, action, Person.objects.all())


def _scope(user: User, action: str) -> Q:
    return access.scope_filter(user, action, Person)


def search_scope(user: User) -> Q:
    """The user's ``person.search`` scope, as ``person_search`` applies it: for a unit of work
    that searches several times and changes none of the user's assignments, supervision,
    break-glass or grants meanwhile (a filing naming three new people) to read it once."""
    return _scope(user, "person.search")


# Below this probability an index candidate is not shown (unless an identifier matched).
MIN_PROBABILITY = 0.05
# How many index candidates are fetched before the access filter narrows them.
INDEX_CANDIDATES = 200
_SEX_CODES = {"1": "M", "2": "F"}


def _identifier_matches(query: SearchQuery) -> set[Any]:
    digits = _DIGITS.sub("", query.identifier)
    if len(digits) == 9:
        return set(
            Identifier.objects.filter(digest=crypto.digest(f"ssn:{digits}")).values_list(
                "person_id", flat=True
            )
        )
    if len(digits) == 4:
        return set(Identifier.objects.filter(last4=digits).values_list("person_id", flat=True))
    return set()


def _sex_filter(query: SearchQuery) -> dict[str, Any]:
    return {"sex__in": [query.sex, "9"]} if query.sex in {"1", "2"} else {}


def _candidates(user: User, query: SearchQuery, ids: Any, scope: Q) -> list[Person]:
    """The candidates' records, with what their pair score reads of them (their names,
    identifiers, addresses, phones and merged records) loaded only where they have some."""
    qs = Person.objects.filter(scope, pk__in=ids, merged_into__isnull=True, **_sex_filter(query))
    qs = matchindex.with_part_flags(qs.select_related("org_unit"))
    return matchindex.prefetch_parts(list(qs))


def query_record(query: SearchQuery) -> PersonRecord:
    """The query as a matching record: what is known of the person sought."""
    first, last = query.split_name()
    digits = _DIGITS.sub("", query.identifier)
    return PersonRecord(
        record_id="",
        first_name=first,
        last_name=last,
        date_of_birth=query.date_of_birth,
        sex=_SEX_CODES.get(query.sex, ""),
        ssn=digits if len(digits) in (4, 9) else "",
        street=query.street.strip(),
        city=query.city.strip(),
        postcode=query.postcode.strip(),
        phone=query.phone.strip(),
    )


def _index_search(
    user: User, query: SearchQuery, index: SearchIndex, scope: Q
) -> list[SearchResult]:
    """Ranked by the matching index's probability; the access filter ``scope`` runs in the
    query."""
    record = query_record(query)
    # A score is explained only for the people shown, not for every candidate weighed.
    best: dict[str, tuple[float, Score | list[str], bool]] = {}
    for candidate in index.search(record, limit=INDEX_CANDIDATES):
        person_id = matchindex.person_id_of(candidate.record_id)
        is_alias = person_id != candidate.record_id
        if person_id not in best or candidate.probability > best[person_id][0]:
            best[person_id] = (candidate.probability, candidate.score, is_alias)
    matched_ids = _identifier_matches(query)
    matched = {str(pk) for pk in matched_ids}
    # The database keys still nominate candidates (a surname alone, say, is too little for
    # the index's blocking keys); the index then scores them like the others. Only their
    # ids and key scores are needed here: the records themselves are read once, below.
    plain = {
        str(pk): score for pk, score in _db_scores(user, query, matched_ids, scope=scope).items()
    }
    for person_id in (matched | set(plain)) - set(best):
        score = index.score(record, person_id)
        if score is not None:
            best[person_id] = (score.probability, score, False)
        elif person_id in plain:
            best[person_id] = (plain[person_id].value, plain[person_id].reasons, False)
        else:
            best[person_id] = (0.0, [], False)
    wanted = [
        pid
        for pid, (p, _, _) in best.items()
        if p >= MIN_PROBABILITY or pid in matched or pid in plain
    ]
    results: list[SearchResult] = []
    if not wanted:
        return results
    for person in _candidates(user, query, wanted, scope):
        probability, evidence, is_alias = best[str(person.pk)]
        reasons = explain_score(evidence) if isinstance(evidence, Score) else evidence
        if is_alias:
            reasons = [*reasons, "known by another name"]
        if str(person.pk) in matched:
            probability = max(probability, 0.99)
            reasons = ["identifier matches", *reasons]
        results.append(SearchResult(person, round(probability, 4), reasons))
    return results


def _key_blocks(query: SearchQuery, q_first: str, q_last: str) -> RawSQL | None:
    """The ids of the people whose keys block with the query, as one UNION of index scans.

    As OR-ed conditions on one scan of the person table, the alias-name subquery keeps the
    database from combining indexes: every duplicate check would read the whole registry.
    Each branch here reads one index (the surname prefix, its phonetic key, an alias's, the
    date of birth); only a query with no surname falls back on first names, unindexed.

    Written as SQL, with the lookups the ORM itself would write (``startswith``, ``=``): for
    every new person a filing names, compiling five querysets cost the server more than the
    database took to run them.
    """
    person, alias = Person._meta, PersonName._meta
    branches: list[str] = []
    params: list[Any] = []
    if q_last:
        prefix, key = _prefix(q_last[:3]), search.phonetic(q_last)
        branches += [
            _select(person, "id", _starts(person, "search_last")),
            _select(person, "id", f"{_column(person, 'search_last_key')} = %s"),
            _select(alias, "person", _starts(alias, "search_last")),
            _select(alias, "person", f"{_column(alias, 'search_last_key')} = %s"),
        ]
        params += [prefix, key, prefix, key]
    elif q_first:
        either = f"{_starts(person, 'search_first')} OR {_column(person, 'search_first_key')} = %s"
        branches.append(_select(person, "id", either))
        params += [_prefix(q_first[:3]), search.phonetic(q_first)]
    if query.date_of_birth:
        branches.append(_select(person, "id", f"{_column(person, 'date_of_birth')} = %s"))
        dob = person.get_field("date_of_birth")
        params.append(dob.get_db_prep_value(query.date_of_birth, connection))
    if not branches:
        return None
    return RawSQL(" UNION ".join(branches), params)  # noqa: S611 - every value a parameter


def _select(meta: Options[Any], column: str, where: str) -> str:
    """``SELECT <column> FROM <table> WHERE <where>``: names from the model, values left as
    parameters (``%s``) in ``where``."""
    table = connection.ops.quote_name(meta.db_table)
    return f"SELECT {_column(meta, column)} FROM {table} WHERE {where}"  # noqa: S608


def _column(meta: Options[Any], name: str) -> str:
    field = meta.get_field(name)
    assert isinstance(field, Field) and field.column  # noqa: S101 - a concrete column
    return connection.ops.quote_name(field.column)


def _starts(meta: Options[Any], name: str) -> str:
    """``<column> startswith %s`` as the ORM writes it for this database (the cast and the
    LIKE that PostgreSQL's pattern index answers, SQLite's escape character)."""
    internal_type = meta.get_field(name).get_internal_type()
    column = connection.ops.lookup_cast("startswith", internal_type) % _column(meta, name)
    like: str = connection.operators["startswith"]  # type: ignore[attr-defined]
    return f"{column} {like % '%s'}"


def _prefix(value: str) -> str:
    return f"{connection.ops.prep_for_like_query(value)}%"


def _db_scores(
    user: User, query: SearchQuery, matched_ids: set[Any], *, scope: Q | None = None
) -> dict[Any, search.Score]:
    """The plain database-key search's hits: person id -> key score (0.6 and up, or an
    identifier match). Reads only the columns the score needs; the caller loads the records
    it shows. ``scope`` is the user's ``person.search`` scope filter, when the caller has it."""
    first, last = query.split_name()
    q_first, q_last = search.normalise(first), search.normalise(last)
    blocks = _key_blocks(query, q_first, q_last)
    if blocks is None and not matched_ids:
        return {}
    if scope is None:
        scope = _scope(user, "person.search")
    base = Person.objects.filter(scope, merged_into__isnull=True, **_sex_filter(query))
    # No join here can repeat a person (the access filter follows a foreign key, the keys
    # sit in a subquery), so no DISTINCT either.
    # Whether each has other names: only theirs are read, below.
    base = base.annotate(aliased=matchindex.parts_present(["names"]))
    columns = ("pk", "search_first", "search_last", "date_of_birth", "aliased")
    candidates: list[tuple[Any, str, str, date | None, int]] = []
    if blocks is not None:
        candidates = list(base.filter(pk__in=blocks).values_list(*columns)[:MAX_CANDIDATES])
    missing = set(matched_ids) - {c[0] for c in candidates}
    if missing:
        candidates += base.filter(pk__in=list(missing)).values_list(*columns)
    aliases: dict[Any, list[tuple[str, str, str]]] = {}
    aliased = [c[0] for c in candidates if c[4]]
    if aliased:
        for person_id, kind, alias_first, alias_last in PersonName.objects.filter(
            person_id__in=aliased
        ).values_list("person_id", "kind", "search_first", "search_last"):
            aliases.setdefault(person_id, []).append((kind, alias_first, alias_last))
    hits: dict[Any, search.Score] = {}
    for pk, cand_first, cand_last, cand_dob, _ in candidates:
        best = search.score(
            query_first=q_first,
            query_last=q_last,
            query_dob=query.date_of_birth,
            cand_first=cand_first,
            cand_last=cand_last,
            cand_dob=cand_dob,
            identifier_match=pk in matched_ids,
        )
        for kind, alias_first, alias_last in aliases.get(pk, ()):
            alt = search.score(
                query_first=q_first,
                query_last=q_last,
                query_dob=query.date_of_birth,
                cand_first=alias_first or cand_first,
                cand_last=alias_last or cand_last,
                cand_dob=cand_dob,
                identifier_match=pk in matched_ids,
            )
            if alt.value > best.value:
                label = PersonName.Kind(kind).label if kind in PersonName.Kind else kind
                best = search.Score(alt.value, [*alt.reasons, f"known as ({label})"])
        if best.value >= 0.6 or pk in matched_ids:
            hits[pk] = best
    return hits


def _db_search(user: User, query: SearchQuery, scope: Q) -> list[SearchResult]:
    """The plain database-key search, used while the matching index is missing or empty."""
    hits = _db_scores(user, query, _identifier_matches(query), scope=scope)
    if not hits:
        return []
    return [
        SearchResult(person, hits[person.pk].value, hits[person.pk].reasons)
        for person in _candidates(user, query, list(hits), scope)
    ]


def person_search(
    *, user: User, query: SearchQuery, limit: int = 25, scope: Q | None = None
) -> list[SearchResult]:
    """Typo-tolerant search: the matching index ranks, the access policy filters in the query.

    ``score`` is the index's match probability and ``reasons`` its explanation. While the
    index is missing or empty (a database loaded without ``rebuild_match_index``) the
    plain database-key search answers instead. One ``search`` audit row records who
    searched and which records were shown. ``scope``: the user's ``search_scope``, when the
    caller has read it already.
    """
    access.require_permission(user, "person.search")
    if query.empty:
        return []
    try:
        index = matchindex.get_index(create=False)
    except IndexFormatError:
        # Built by another version of the matcher: answer from the database until rebuilt.
        index = None
    # One reading of the user's scope for the search's queries (it changes with their
    # assignments and grants, which a search does not touch).
    if scope is None:
        scope = search_scope(user)
    if index is not None and len(index) > 0:
        results = _index_search(user, query, index, scope)
    else:
        results = _db_search(user, query, scope)
    results.sort(
        key=lambda r: (-r.score, r.person.last_name, r.person.first_name, str(r.person.pk))
    )
    results = results[:limit]
    audit.record(
        user=user,
        action="search",
        record_type="person",
        detail={
            "shown": [str(r.person.pk) for r in results],
            "by": sorted(k for k, v in vars(query).items() if v),
        },
    )
    return results


def _pair_score(record: PersonRecord, person: Person, model: MatchModel) -> Score:
    """The best pair score of a new record against any of a person's names."""
    scores = [score_pair(record, r, model=model) for r in matchindex.records_for(person)]
    return max(scores, key=lambda s: s.match_weight)


def person_possible_duplicates(
    *,
    user: User,
    values: Mapping[str, Any],
    addresses: Sequence[Mapping[str, Any]] = (),
    phones: Sequence[Mapping[str, Any]] = (),
    ssn: str = "",
    limit: int = 10,
    scope: Q | None = None,
) -> list[SearchResult]:
    """People already in the registry (that the user may see) whom a new record may be.

    Searches first, as a worker would (``person_search``, audited), then scores each
    candidate against the new record as a pair with the matching model and its pair prior
    — the same scoring as de-duplication — so ``score`` is the probability that the two
    records are one person and ``reasons`` its weighted explanation. Returns those at or
    above the policy's ``matching.possible_duplicate`` threshold, likeliest first.
    ``scope`` as for ``person_search``.
    """
    address = addresses[0] if addresses else {}
    query = SearchQuery(
        first_name=str(values.get("first_name") or ""),
        last_name=str(values.get("last_name") or ""),
        date_of_birth=values.get("date_of_birth"),
        sex=str(values.get("sex") or ""),
        identifier=ssn,
        street=str(address.get("street") or ""),
        city=str(address.get("city") or ""),
        postcode=str(address.get("postcode") or ""),
        phone=str(phones[0].get("number") or "") if phones else "",
    )
    # Sex is evidence in the pair score, not a filter: it is misrecorded too often to let
    # it hide a child's record.
    found = person_search(user=user, query=replace(query, sex=""), limit=25, scope=scope)
    if not found:
        return []
    record = replace(query_record(query), middle_name=str(values.get("middle_name") or ""))
    try:
        index = matchindex.get_index(create=False)
    except IndexFormatError:
        index = None
    model = index.model if index is not None and len(index) > 0 else MatchModel.default()
    same_ssn = _identifier_matches(query) if len(_DIGITS.sub("", ssn)) == 9 else set()
    threshold = matching_policy().possible_duplicate
    out: list[SearchResult] = []
    for result in found:
        score = _pair_score(record, result.person, model)
        probability, reasons = score.probability, explain_score(score)
        if result.person.pk in same_ssn:
            probability = max(probability, 0.99)
            reasons = ["the full SSN matches: at least 0.99", *reasons]
        if probability >= threshold:
            out.append(SearchResult(result.person, round(probability, 4), reasons))
    out.sort(key=lambda r: (-r.score, str(r.person.pk)))
    return out[:limit]


def person_get(*, user: User, person_id: Any, action: str = "person.view") -> Person:
    qs = Person.objects.select_related("org_unit", "created_by", "updated_by").prefetch_related(
        "memberships",
        "names",
        "identifiers",
        "addresses",
        "phones",
        "memberships__household",
        "relationships_from__related",
        "relationships_to__person",
    )
    return access.access_record_by_id(user, Person, person_id, action, queryset=qs)


def person_history(*, person: Person) -> list[dict[str, Any]]:
    """The person's own changes, newest first (read after ``person_get`` audited the view)."""
    rows = list(person.history.select_related("history_user").order_by("-history_date"))
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(rows):
        older = rows[i + 1] if i + 1 < len(rows) else None
        changed: list[str] = []
        if older is not None:
            delta = entry.diff_against(older)
            changed = sorted(c.field for c in delta.changes if not c.field.startswith("search_"))
        out.append(
            {
                "at": entry.history_date,
                "by": str(entry.history_user) if entry.history_user else "system",
                "type": {"+": "created", "~": "changed", "-": "deleted"}[entry.history_type],
                "version": entry.version,
                "fields": changed,
            }
        )
    return out


# Bookkeeping every row carries: not "what changed" for a reader of the history.
_TIMELINE_QUIET = frozenset({"version", "created_at", "updated_at", "created_by", "updated_by"})
_HISTORY_TYPE = {"+": "created", "~": "changed", "-": "deleted"}


def _timeline_note(label: str, entry: Any) -> str:
    """A short tag telling rows of one kind apart; an identifier only ever shows its mask."""
    if label == "Identifier":
        kind = Identifier.Kind(entry.kind).label if entry.kind in Identifier.Kind else entry.kind
        return f"{kind} {crypto.mask(entry.last4, entry.kind)}".strip()
    if label == "Name":
        return str(PersonName.Kind(entry.kind).label) if entry.kind in PersonName.Kind else ""
    if label == "Phone":
        return str(Phone.Kind(entry.kind).label) if entry.kind in Phone.Kind else ""
    if label == "Relationship":
        return entry.get_kind_display()
    return ""


def person_timeline(*, person: Person) -> list[dict[str, Any]]:
    """One chronological history of the person and what is recorded about them, newest first.

    Covers the person row, names, identifiers, addresses, phones and relationships (either
    side). Rows name the fields that changed, never their values; identifiers keep no value in
    their history, only the last four characters, shown masked. Read after ``person_get``
    audited the view.
    """
    sources: list[tuple[str, Any]] = [
        ("Person", Person.history.filter(id=person.pk)),
        ("Name", PersonName.history.filter(person_id=person.pk)),
        ("Identifier", Identifier.history.filter(person_id=person.pk)),
        ("Address", Address.history.filter(person_id=person.pk)),
        ("Phone", Phone.history.filter(person_id=person.pk)),
        (
            "Relationship",
            Relationship.history.filter(Q(person_id=person.pk) | Q(related_id=person.pk)),
        ),
    ]
    out: list[dict[str, Any]] = []
    for label, queryset in sources:
        entries = list(queryset.select_related("history_user").order_by("history_date"))
        previous: dict[Any, Any] = {}
        for entry in entries:
            older = previous.get(entry.id)
            previous[entry.id] = entry
            changed: list[str] = []
            if older is not None and entry.history_type == "~":
                delta = entry.diff_against(older)
                changed = sorted(
                    c.field
                    for c in delta.changes
                    if c.field not in _TIMELINE_QUIET and not c.field.startswith("search_")
                )
            out.append(
                {
                    "at": entry.history_date,
                    "by": str(entry.history_user) if entry.history_user else "system",
                    "record": label,
                    "type": _HISTORY_TYPE[entry.history_type],
                    "fields": changed,
                    "note": _timeline_note(label, entry),
                }
            )
    out.sort(key=lambda row: row["at"], reverse=True)
    return out


def person_in_scope_for(user: User, person: Person, action: str) -> bool:
    return access.can_access(user, person, action).allowed


def person_for_break_glass(*, user: User, person_id: Any) -> Person:
    """The person a user asks emergency access to; restricted or missing ones are a 404."""
    access.require_permission(user, "break_glass.use")
    try:
        person = Person.objects.select_related("org_unit").get(pk=person_id)
    except (Person.DoesNotExist, ValueError, DjangoValidationError):
        person = None
    if person is None or (
        person.restricted and not access.can_access(user, person, "person.view").allowed
    ):
        audit.record(
            user=user,
            action="denied",
            record_type="person",
            record_id=person_id,
            detail={"action": "break_glass"},
        )
        raise AccessDenied()
    return person


def household_get(*, user: User, household_id: Any) -> Household:
    qs = Household.objects.select_related("org_unit").prefetch_related("members")
    return access.access_record_by_id(user, Household, household_id, "person.view", queryset=qs)


def duplicate_list(*, user: User, limit: int = 200) -> list[PossibleDuplicate]:
    """Open possible-duplicate pairs whose two records the user may merge, likeliest first."""
    access.require_permission(user, "person.merge")
    mergeable = _base(user, "person.merge").filter(merged_into__isnull=True).values("pk")
    pairs = list(
        PossibleDuplicate.objects.filter(
            status=PossibleDuplicate.Status.OPEN,
            person_a__in=mergeable,
            person_b__in=mergeable,
        )
        .select_related("person_a__org_unit", "person_b__org_unit")
        .order_by("-probability", "person_a_id", "person_b_id")[:limit]
    )
    audit.record(
        user=user,
        action="view",
        record_type="person",
        detail={"duplicates": [[str(p.person_a_id), str(p.person_b_id)] for p in pairs]},
    )
    return pairs


def merge_list(*, user: User, limit: int = 50) -> list[PersonMerge]:
    """Recent merges of records the user may merge (both of them), newest first."""
    access.require_permission(user, "person.merge")
    mergeable = _base(user, "person.merge").values("pk")
    return list(
        PersonMerge.objects.filter(survivor__in=mergeable, merged__in=mergeable).select_related(
            "survivor", "merged"
        )[:limit]
    )
