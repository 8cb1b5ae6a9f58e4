"""Every read of the people registry, filtered by the access policy and audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet

from kinfolk.core import access, audit, crypto
from kinfolk.core.errors import AccessDenied
from kinfolk.core.models import User
from kinfolk.people import search
from kinfolk.people.models import Household, Identifier, Person, PersonName

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


def person_search(*, user: User, query: SearchQuery, limit: int = 25) -> list[SearchResult]:
    """Typo-tolerant search. Candidates come from indexed keys; ``search.score`` ranks them.

    One ``search`` audit row records who searched and which records were shown.
    """
    access.require_permission(user, "person.search")
    if query.empty:
        return []
    first, last = query.split_name()
    q_first, q_last = search.normalise(first), search.normalise(last)
    last_key = search.phonetic(last)
    blocks = Q(pk__in=[])
    if q_last:
        blocks |= Q(search_last__startswith=q_last[:3]) | Q(search_last_key=last_key)
        alias_ids = PersonName.objects.filter(
            Q(search_last_key=last_key) | Q(search_last__startswith=q_last[:3])
        ).values("person_id")
        blocks |= Q(pk__in=alias_ids)
    elif q_first:
        blocks |= Q(search_first__startswith=q_first[:3]) | Q(
            search_first_key=search.phonetic(first)
        )
    if query.date_of_birth:
        blocks |= Q(date_of_birth=query.date_of_birth)
    matched_ids: set[Any] = set()
    digits = _DIGITS.sub("", query.identifier)
    if len(digits) == 9:
        matched_ids = set(
            Identifier.objects.filter(digest=crypto.digest(f"ssn:{digits}")).values_list(
                "person_id", flat=True
            )
        )
        blocks |= Q(pk__in=list(matched_ids))
    elif len(digits) == 4:
        matched_ids = set(
            Identifier.objects.filter(last4=digits).values_list("person_id", flat=True)
        )
        blocks |= Q(pk__in=list(matched_ids))
    qs = _base(user, "person.search").filter(blocks)
    if query.sex in {"1", "2"}:
        qs = qs.filter(sex__in=[query.sex, "9"])
    candidates = list(
        qs.select_related("org_unit")
        .prefetch_related("names", Prefetch("identifiers", queryset=Identifier.objects.all()))
        .distinct()[:MAX_CANDIDATES]
    )
    results: list[SearchResult] = []
    for person in candidates:
        best = search.score(
            query_first=q_first,
            query_last=q_last,
            query_dob=query.date_of_birth,
            cand_first=person.search_first,
            cand_last=person.search_last,
            cand_dob=person.date_of_birth,
            identifier_match=person.pk in matched_ids,
        )
        for alias in person.names.all():
            alt = search.score(
                query_first=q_first,
                query_last=q_last,
                query_dob=query.date_of_birth,
                cand_first=alias.search_first or person.search_first,
                cand_last=alias.search_last or person.search_last,
                cand_dob=person.date_of_birth,
                identifier_match=person.pk in matched_ids,
            )
            if alt.value > best.value:
                best = search.Score(
                    alt.value, [*alt.reasons, f"known as ({alias.get_kind_display()})"]
                )
        if best.value >= 0.6 or person.pk in matched_ids:
            results.append(SearchResult(person, best.value, best.reasons))
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
