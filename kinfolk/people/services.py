"""Every write to the people registry. Keyword-only, atomic, audited."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ForeignObjectRel, Q
from django.utils import timezone
from simple_history.models import HistoricalChanges

from kinfolk.core import access, audit, crypto
from kinfolk.core.errors import (
    AccessDenied,
    Forbidden,
    PreconditionRequired,
    ValidationFailed,
)
from kinfolk.core.models import AccessGrant, Assignment, OrgUnit, User
from kinfolk.core.policy import matching_policy
from kinfolk.core.services import apply_changes, check_version
from kinfolk.matching import dedupe, score_pair
from kinfolk.matching.model import GUARD, TermFrequencies, probability_from_weight
from kinfolk.matching.normalize import normalize
from kinfolk.people import selectors
from kinfolk.people.explain import explain_score, weight_without_guard
from kinfolk.people.matchindex import (
    alias_record_id,
    merged_records_of,
    records_for,
    reindex_on_commit,
)
from kinfolk.people.models import (
    Address,
    Household,
    HouseholdMember,
    Identifier,
    Person,
    PersonMerge,
    PersonName,
    PersonStatus,
    Phone,
    PossibleDuplicate,
    Relationship,
)
from kinfolk.people.search import keys_for

PERSON_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "dob_precision",
    "sex",
    "race_amiakn",
    "race_asian",
    "race_blkafram",
    "race_hawaiipi",
    "race_white",
    "race_unknown",
    "race_declined",
    "hispanic",
    "tribal_affiliation",
)
_SSN = re.compile(r"^\d{9}$")


def _check_person_values(values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    dob = values.get("date_of_birth")
    if isinstance(dob, date) and dob > timezone.localdate():
        errors["date_of_birth"] = ["A date of birth cannot be in the future."]
    if isinstance(dob, date) and dob.year < 1900:
        errors["date_of_birth"] = ["A date of birth before 1900 is not plausible."]
    for name in ("first_name", "last_name"):
        if name in values and not str(values[name] or "").strip():
            errors[name] = ["This field is required."]
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)


def _check_new_values(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={k: ["Unknown field."] for k in unknown})
    _check_person_values({"first_name": "", "last_name": "", **values})


def _refresh_keys(person: Person) -> None:
    keys = keys_for(person.first_name, person.last_name)
    person.search_first, person.search_last = keys.first, keys.last
    person.search_first_key, person.search_last_key = keys.first_key, keys.last_key


def _unit_for_create(user: User, org_unit: OrgUnit) -> OrgUnit:
    if not any(org_unit.path.startswith(p) for p in access.scope_paths(user, "person.create")):
        raise Forbidden("You can add people only inside your own offices and counties.")
    return org_unit


def person_create(
    *,
    user: User,
    org_unit: OrgUnit,
    values: Mapping[str, Any],
    names: Sequence[Mapping[str, Any]] = (),
    identifiers: Sequence[Mapping[str, Any]] = (),
    addresses: Sequence[Mapping[str, Any]] = (),
    phones: Sequence[Mapping[str, Any]] = (),
    savepoint: bool = True,
) -> Person:
    """Add a person (the caller has searched for them first).

    One transaction block. ``savepoint=False`` is for a caller inside its own block that any
    error raised here ends (filing a report), never one that catches it and carries on.
    """
    with transaction.atomic(savepoint=savepoint):
        access.require_permission(user, "person.create")
        _unit_for_create(user, org_unit)
        _check_new_values(values)
        person = Person(org_unit=org_unit, created_by=user, updated_by=user, **values)
        _refresh_keys(person)
        person._change_reason = "create"  # type: ignore[attr-defined]
        person.save(force_insert=True)
        for name in names:
            _name_add(person=person, user=user, data=name)
        for ident in identifiers:
            _identifier_set(person=person, user=user, kind=ident["kind"], value=ident["value"])
        for addr in addresses:
            Address.objects.create(person=person, created_by=user, updated_by=user, **addr)
        for phone in phones:
            Phone.objects.create(person=person, created_by=user, updated_by=user, **phone)
        audit.record(
            user=user,
            action="create",
            record_type="person",
            record_id=person.pk,
            fields=[k for k in values if values[k] not in ("", None, False)],
            detail={
                "org_unit": org_unit.code,
                "names": len(names),
                "identifiers": len(identifiers),
                "addresses": len(addresses),
                "phones": len(phones),
            },
        )
        reindex_on_commit(person.pk)
        return person


def _name_add(*, person: Person, user: User, data: Mapping[str, Any]) -> PersonName:
    keys = keys_for(data.get("first_name", ""), data.get("last_name", ""))
    return PersonName.objects.create(
        person=person,
        kind=data.get("kind", PersonName.Kind.ALIAS),
        first_name=data.get("first_name", ""),
        middle_name=data.get("middle_name", ""),
        last_name=data.get("last_name", ""),
        search_first=keys.first,
        search_last=keys.last,
        search_last_key=keys.last_key,
        created_by=user,
        updated_by=user,
    )


def _identifier_set(*, person: Person, user: User, kind: str, value: str) -> Identifier:
    value = re.sub(r"[\s-]", "", value or "")
    if kind == Identifier.Kind.SSN and not _SSN.match(value):
        raise ValidationFailed("Invalid SSN.", fields={"ssn": ["An SSN is 9 digits."]})
    if not value or len(value) > 40:
        raise ValidationFailed("Invalid identifier.", fields={"value": ["1–40 characters."]})
    ident, _ = Identifier.objects.update_or_create(
        person=person,
        kind=kind,
        defaults={
            "value_encrypted": crypto.encrypt(value),
            "last4": value[-4:],
            "digest": crypto.digest(f"{kind}:{value}"),
            "updated_by": user,
        },
    )
    return ident


def _person_for_write(user: User, person_id: Any) -> Person:
    return access.access_record_by_id(
        user, Person, person_id, "person.update", audit_view=False, for_update=True
    )


def _bump(person: Person, user: User, reason: str, fields: Sequence[str] = ()) -> None:
    """Save ``fields`` and move the record's version, with ``reason`` in its history.

    Also called when only a part changed (a name, address, phone, identifier or relationship):
    the person's ETag covers everything shown with the record, so a client holding an older
    copy learns of the change (its next If-Match is stale) instead of overwriting blindly.
    """
    person.version += 1
    person.updated_by = user
    person.updated_at = timezone.now()
    person._change_reason = reason  # type: ignore[attr-defined]
    person.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


@transaction.atomic
def person_update(
    *, user: User, person_id: Any, expected_version: int, changes: Mapping[str, Any]
) -> Person:
    person = _person_for_write(user, person_id)
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={k: ["Unknown field."] for k in unknown})
    _check_person_values(changes)
    if {"first_name", "last_name"} & set(changes):
        keys = keys_for(
            changes.get("first_name", person.first_name), changes.get("last_name", person.last_name)
        )
        changes = {
            **changes,
            "search_first": keys.first,
            "search_last": keys.last,
            "search_first_key": keys.first_key,
            "search_last_key": keys.last_key,
        }
    updated = apply_changes(
        instance=person,
        changes=changes,
        user=user,
        expected_version=expected_version,
        record_type="person",
    )
    reindex_on_commit(person.pk)
    return updated


@transaction.atomic
def person_identifier_set(
    *, user: User, person_id: Any, kind: str, value: str, expected_version: int | None = None
) -> Identifier:
    """Set an identifier. Replacing one the record already has is an update: it needs the
    version the worker last saw (If-Match), so a wrong SSN never silently replaces a right one.
    """
    person = _person_for_write(user, person_id)
    if person.identifiers.filter(kind=kind).exists():
        if expected_version is None:
            raise PreconditionRequired(
                "This person already has that identifier: send If-Match with the version you "
                "read to replace it."
            )
        check_version(person, expected_version)
    ident = _identifier_set(person=person, user=user, kind=kind, value=value)
    _bump(person, user, f"identifier:{kind}")
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=[f"identifier:{kind}"],
    )
    reindex_on_commit(person.pk)
    return ident


@transaction.atomic
def person_name_add(*, user: User, person_id: Any, data: Mapping[str, Any]) -> PersonName:
    person = _person_for_write(user, person_id)
    name = _name_add(person=person, user=user, data=data)
    _bump(person, user, "names")
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=["names"],
        detail={"name_id": str(name.pk)},
    )
    reindex_on_commit(person.pk)
    return name


@transaction.atomic
def person_address_add(
    *, user: User, person_id: Any, data: Mapping[str, Any], moved: bool = True
) -> Address:
    """Record an address. With ``moved`` the current one ends the day before the new one."""
    person = _person_for_write(user, person_id)
    valid_from: date = data.get("valid_from") or timezone.localdate()
    if valid_from > timezone.localdate():
        raise ValidationFailed(
            "Dates cannot be in the future.", fields={"valid_from": ["Cannot be in the future."]}
        )
    if moved:
        for current in person.addresses.filter(valid_to__isnull=True):
            if current.valid_from and current.valid_from > valid_from:
                raise ValidationFailed(
                    "The new address starts before the current one.",
                    fields={"valid_from": ["Must be on or after the current address's start."]},
                )
            current.valid_to = valid_from
            current.updated_by = user
            current.version += 1
            current.save(update_fields=["valid_to", "updated_by", "version"])
    address = Address.objects.create(
        person=person, created_by=user, updated_by=user, **{**data, "valid_from": valid_from}
    )
    _bump(person, user, "addresses")
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=["addresses"],
        detail={"address_id": str(address.pk)},
    )
    reindex_on_commit(person.pk)
    return address


@transaction.atomic
def person_phone_add(*, user: User, person_id: Any, number: str, kind: str) -> Phone:
    person = _person_for_write(user, person_id)
    phone = Phone.objects.create(
        person=person, number=number, kind=kind, created_by=user, updated_by=user
    )
    _bump(person, user, "phones")
    audit.record(
        user=user, action="update", record_type="person", record_id=person.pk, fields=["phones"]
    )
    reindex_on_commit(person.pk)
    return phone


@transaction.atomic
def relationship_add(
    *, user: User, person_id: Any, related_id: Any, kind: str, started: date | None = None
) -> Relationship:
    person = _person_for_write(user, person_id)
    related = access.referenced_record(
        user, Person, related_id, "person.view", field="related", what="person"
    )
    if related.pk == person.pk:
        raise ValidationFailed(
            "A person cannot be related to themselves.",
            fields={"related": ["Choose another person."]},
        )
    if Relationship.objects.filter(person=person, related=related, kind=kind).exists():
        raise ValidationFailed(
            "That relationship is already recorded.", fields={"kind": ["Already recorded."]}
        )
    rel = Relationship.objects.create(
        person=person, related=related, kind=kind, started=started, created_by=user, updated_by=user
    )
    _bump(person, user, "relationships")
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=["relationships"],
        detail={"related": str(related.pk), "kind": kind},
    )
    return rel


@transaction.atomic
def household_create(
    *, user: User, org_unit: OrgUnit, label: str, members: Sequence[tuple[Person, str]] = ()
) -> Household:
    access.require_permission(user, "person.create")
    _unit_for_create(user, org_unit)
    household = Household.objects.create(
        org_unit=org_unit, label=label[:200], created_by=user, updated_by=user
    )
    for person, role in members:
        HouseholdMember.objects.create(
            household=household,
            person=person,
            role=role,
            joined=timezone.localdate(),
            created_by=user,
            updated_by=user,
        )
    audit.record(
        user=user,
        action="create",
        record_type="household",
        record_id=household.pk,
        detail={"members": len(members)},
    )
    return household


@transaction.atomic
def household_create_from_ids(
    *, user: User, org_unit: OrgUnit, label: str, members: Sequence[tuple[Any, str]]
) -> Household:
    """A household of people the user may see; an unknown or hidden person is a field error."""
    people: list[tuple[Person, str]] = []
    for index, (person_id, role) in enumerate(members):
        person = access.referenced_record(
            user, Person, person_id, "person.view", field=f"members[{index}].person", what="person"
        )
        people.append((person, role))
    if len({p.pk for p, _ in people}) != len(people):
        raise ValidationFailed("A person is listed twice.", fields={"members": ["Listed twice."]})
    return household_create(user=user, org_unit=org_unit, label=label, members=people)


# --- Possible duplicates, merge and unmerge ----------------------------------------------------


def _ordered_pair(a: Person, b: Person) -> tuple[Person, Person]:
    return (a, b) if str(a.pk) < str(b.pk) else (b, a)


def _pair_for(a: Person, b: Person) -> PossibleDuplicate | None:
    first, second = _ordered_pair(a, b)
    return PossibleDuplicate.objects.filter(person_a=first, person_b=second).first()


def duplicate_pair_record(
    *,
    a: Person,
    b: Person,
    probability: float,
    reasons: Sequence[str],
    source: str = "dedupe",
    user: User | None = None,
) -> PossibleDuplicate | None:
    """Queue a pair for review; a pair already decided (different, merged) is left alone."""
    if a.pk == b.pk:
        return None
    existing = _pair_for(a, b)
    if existing is not None:
        if existing.status != PossibleDuplicate.Status.OPEN:
            return existing
        existing.probability = probability
        existing.reasons = list(reasons)
        existing.version += 1
        existing.updated_by = user
        existing.updated_at = timezone.now()
        existing.save(
            update_fields=["probability", "reasons", "version", "updated_by", "updated_at"]
        )
        return existing
    first, second = _ordered_pair(a, b)
    return PossibleDuplicate.objects.create(
        person_a=first,
        person_b=second,
        probability=probability,
        reasons=list(reasons),
        source=source,
        created_by=user,
        updated_by=user,
    )


def duplicate_confirm_different(
    *,
    user: User,
    person_id: Any,
    other_id: Any,
    reason: str = "",
    probability: float = 0.0,
    reasons: Sequence[str] = (),
    savepoint: bool = True,
) -> PossibleDuplicate:
    """A worker confirms two records are different people; the pair leaves the queue for good.

    Called when a worker creates a person despite a likely match, and from the steward's
    queue. Both records must be visible to the user. ``savepoint`` as for ``person_create``.
    """
    with transaction.atomic(savepoint=savepoint):
        access.require_permission(user, "person.create")
        person = access.access_record_by_id(
            user, Person, person_id, "person.view", audit_view=False
        )
        other = access.access_record_by_id(user, Person, other_id, "person.view", audit_view=False)
        if person.pk == other.pk:
            raise ValidationFailed(
                "A record cannot differ from itself.", fields={"other": ["Choose another person."]}
            )
        pair = duplicate_pair_record(
            a=person,
            b=other,
            probability=probability,
            reasons=reasons,
            source="confirmation",
            user=user,
        )
        assert pair is not None  # noqa: S101 - the two differ
        pair.status = PossibleDuplicate.Status.CONFIRMED_DIFFERENT
        pair.decided_at = timezone.now()
        pair.updated_by = user
        pair.version += 1
        pair._change_reason = reason[:100] or "confirmed different"  # type: ignore[attr-defined]
        pair.save(update_fields=["status", "decided_at", "updated_by", "version"])
        audit.record(
            user=user,
            action="update",
            record_type="person",
            record_id=person.pk,
            fields=["possible_duplicates"],
            detail={"confirmed_different_from": str(other.pk), "pair": str(pair.pk)},
            reason=reason,
        )
        return pair


def _candidate_message(result: selectors.SearchResult) -> str:
    return (
        f"Possible duplicate of person {result.person.pk} (match probability "
        f"{result.score:.2f}): {'; '.join(result.reasons)}."
    )


def candidates_out(results: Sequence[selectors.SearchResult]) -> list[dict[str, Any]]:
    """The candidates a refused creation names, for the API body and the page."""
    return [
        {
            "id": str(r.person.pk),
            "probability": r.score,
            "reasons": list(r.reasons),
            "first_name": r.person.first_name,
            "last_name": r.person.last_name,
            "date_of_birth": r.person.date_of_birth.isoformat() if r.person.date_of_birth else None,
            "org_unit": r.person.org_unit.name,
        }
        for r in results
    ]


@transaction.atomic
def person_create_after_search(
    *,
    user: User,
    org_unit: OrgUnit,
    values: Mapping[str, Any],
    different_from: Sequence[Any] = (),
    reason: str = "",
    names: Sequence[Mapping[str, Any]] = (),
    identifiers: Sequence[Mapping[str, Any]] = (),
    addresses: Sequence[Mapping[str, Any]] = (),
    phones: Sequence[Mapping[str, Any]] = (),
) -> Person:
    """Add a person only after searching the registry for them: one child, one record.

    A new record that scores at or above the policy's possible-duplicate threshold
    against someone the user can see is refused (``possible_duplicate``, a field error on
    ``different_from`` naming each candidate with its weighted explanation) unless the
    worker confirms, with a reason, that the person is none of them by listing their ids
    in ``different_from``. Each confirmation is recorded per pair (confirmed different,
    audited), so de-duplication does not queue the pair again.
    """
    access.require_permission(user, "person.create")
    _unit_for_create(user, org_unit)
    _check_new_values(values)
    confirmed = list(dict.fromkeys(str(pk) for pk in different_from))
    ssn = next((i["value"] for i in identifiers if i.get("kind") == Identifier.Kind.SSN), "")
    candidates = selectors.person_possible_duplicates(
        user=user, values=values, addresses=addresses, phones=phones, ssn=ssn
    )
    if confirmed and not reason.strip():
        raise ValidationFailed(
            "Say why this is a different person.",
            fields={"confirmation_reason": ["This field is required."]},
            extra={"candidates": candidates_out(candidates)},
        )
    unconfirmed = [c for c in candidates if str(c.person.pk) not in confirmed]
    if unconfirmed:
        raise ValidationFailed(
            "This person may already be in the registry. Open the existing record, or "
            "confirm they are someone else and say why.",
            fields={"different_from": [_candidate_message(c) for c in unconfirmed]},
            code="possible_duplicate",
            extra={"candidates": candidates_out(candidates)},
        )
    person = person_create(
        user=user,
        org_unit=org_unit,
        values=values,
        names=names,
        identifiers=identifiers,
        addresses=addresses,
        phones=phones,
    )
    scored = {str(c.person.pk): c for c in candidates}
    for other_id in confirmed:
        found = scored.get(other_id)
        try:
            duplicate_confirm_different(
                user=user,
                person_id=person.pk,
                other_id=other_id,
                reason=reason,
                probability=found.score if found else 0.0,
                reasons=found.reasons if found else (),
            )
        except AccessDenied:
            raise ValidationFailed(
                "Unknown person.",
                fields={"different_from": [f"No such person: {other_id}."]},
            ) from None
    return person


def _links_to_person() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) that points at a person, in any app, except history and merges.

    Found from the model registry, so people needs no import of the apps above it and a
    new link (a case member, a placement) is carried by a merge without a change here.
    """
    links: list[tuple[type[models.Model], str]] = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
            continue
        model = rel.related_model
        if not isinstance(model, type) or not issubclass(model, models.Model):
            continue
        if model in (Person, PossibleDuplicate, PersonMerge) or issubclass(
            model, HistoricalChanges
        ):
            continue
        links.append((model, rel.field.name))
    links.sort(key=lambda link: (link[0]._meta.label, link[1]))
    return links


def _person_for_merge(user: User, person_id: Any) -> Person:
    return access.access_record_by_id(
        user, Person, person_id, "person.merge", audit_view=False, for_update=True
    )


@transaction.atomic
def person_merge(*, user: User, survivor_id: Any, merged_id: Any, reason: str) -> PersonMerge:
    """Merge one record into another: every link moves to the survivor; nothing is deleted.

    Both records must be in the user's scope for ``person.merge`` (a restricted record
    needs the user's grant). A link that cannot move (the same SSN on both, a
    relationship between the two) stays on the merged record and is listed in ``kept``.
    """
    access.require_permission(user, "person.merge")
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["This field is required."]
    if str(survivor_id) == str(merged_id):
        errors["merged"] = ["A record cannot be merged into itself."]
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)
    survivor = _person_for_merge(user, survivor_id)
    merged = _person_for_merge(user, merged_id)
    for field_name, person in (("survivor", survivor), ("merged", merged)):
        if person.merged_into_id is not None:
            errors[field_name] = ["This record was already merged into another."]
    mine = {i.kind: i.digest for i in survivor.identifiers.all()}
    for ident in merged.identifiers.all():
        if ident.kind in mine and mine[ident.kind] != ident.digest:
            errors["merged"] = [f"Their {ident.get_kind_display()} differs: not the same person."]
    if errors:
        raise ValidationFailed("These records cannot be merged.", fields=errors)
    moved: list[dict[str, str]] = []
    kept: list[dict[str, str]] = []
    names_before = [str(pk) for pk in merged.names.values_list("pk", flat=True)]
    for model, field_name in _links_to_person():
        for pk in model._default_manager.filter(**{field_name: merged}).values_list(
            "pk", flat=True
        ):
            entry = {"model": model._meta.label_lower, "field": field_name, "pk": str(pk)}
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=pk).update(**{field_name: survivor})
                moved.append(entry)
            except IntegrityError:
                kept.append(entry)
    for assignment_pk in Assignment.objects.filter(
        record_type="person", record_id=merged.pk
    ).values_list("pk", flat=True):
        Assignment.objects.filter(pk=assignment_pk).update(record_id=survivor.pk)
        moved.append({"model": "core.assignment", "field": "record_id", "pk": str(assignment_pk)})
    pair = _pair_for(survivor, merged)
    merge = PersonMerge.objects.create(
        survivor=survivor,
        merged=merged,
        reason=reason,
        moved=moved,
        kept=kept,
        pair_status=pair.status if pair else "",
        created_by=user,
        updated_by=user,
    )
    if pair is not None:
        pair.status = PossibleDuplicate.Status.MERGED
        pair.decided_at = timezone.now()
        pair.version += 1
        pair.updated_by = user
        pair.save(update_fields=["status", "decided_at", "version", "updated_by"])
    grants_added = _carry_restriction(survivor=survivor, merged=merged, merge=merge)
    merged.status = PersonStatus.MERGED
    merged.merged_into = survivor
    _bump(merged, user, "merge", ["status", "merged_into"])
    _bump(survivor, user, "merge", ["restricted"])
    for person, role in ((survivor, "survivor"), (merged, "merged")):
        audit.record(
            user=user,
            action="merge",
            record_type="person",
            record_id=person.pk,
            detail={
                "merge": str(merge.pk),
                "role": role,
                "survivor": str(survivor.pk),
                "merged": str(merged.pk),
                "moved": len(moved),
                "kept": len(kept),
                "restricted": survivor.restricted,
                "grants_carried": len(grants_added),
            },
            reason=reason,
        )
    reindex_on_commit(
        survivor.pk,
        merged.pk,
        drop=[alias_record_id(merged.pk, name_pk) for name_pk in names_before],
    )
    return merge


def _carry_restriction(*, survivor: Person, merged: Person, merge: PersonMerge) -> list[int]:
    """A survivor that takes in a restricted record's data becomes restricted too.

    Otherwise the merged record's names, addresses and phones would show to anyone in the
    survivor's scope. The merged record's grants are carried to the survivor, so those
    allowed to see that child still do; both are recorded on the merge for the unmerge.
    """
    merge.survivor_was_restricted = survivor.restricted
    added: list[int] = []
    if merged.restricted:
        survivor.restricted = True
        holders = set(
            AccessGrant.objects.filter(
                record_type=Person.RECORD_TYPE, record_id=survivor.pk, revoked_at__isnull=True
            ).values_list("user_id", flat=True)
        )
        for grant in AccessGrant.objects.filter(
            record_type=Person.RECORD_TYPE, record_id=merged.pk, revoked_at__isnull=True
        ).order_by("pk"):
            if grant.user_id in holders:
                continue
            holders.add(grant.user_id)
            carried = AccessGrant.objects.create(
                user_id=grant.user_id,
                record_type=Person.RECORD_TYPE,
                record_id=survivor.pk,
                granted_by_id=grant.granted_by_id,
                reason=f"Carried by merge {merge.pk} from grant {grant.pk}: {grant.reason}",
            )
            added.append(carried.pk)
    merge.grants_added = added
    merge.save(update_fields=["survivor_was_restricted", "grants_added"])
    return added


@transaction.atomic
def person_unmerge(*, user: User, merge_id: Any, reason: str) -> PersonMerge:
    """Undo a merge: the rows it moved point at the merged record again, which is active again.

    Only the rows the merge moved go back; links added to the survivor since stay with it.
    A later merge involving either record must be undone first.
    """
    access.require_permission(user, "person.merge")
    if not (reason or "").strip():
        raise ValidationFailed(
            "Some fields are not valid.", fields={"reason": ["This field is required."]}
        )
    try:
        merge = PersonMerge.objects.select_for_update().get(pk=merge_id)
    except (PersonMerge.DoesNotExist, ValueError, DjangoValidationError):
        raise AccessDenied() from None
    survivor = _person_for_merge(user, merge.survivor_id)
    merged = _person_for_merge(user, merge.merged_id)
    if merge.undone_at is not None:
        raise ValidationFailed(
            "This merge was already undone.", fields={"merge": ["Already undone."]}
        )
    later = PersonMerge.objects.filter(
        Q(survivor__in=[survivor, merged]) | Q(merged__in=[survivor, merged]),
        created_at__gt=merge.created_at,
        undone_at__isnull=True,
    ).exclude(pk=merge.pk)
    if later.exists():
        raise ValidationFailed(
            "A later merge involves these records; undo it first.",
            fields={"merge": ["Undo the later merge first."]},
        )
    for entry in reversed(merge.moved):
        if entry["model"] == "core.assignment":
            Assignment.objects.filter(pk=entry["pk"]).update(record_id=merged.pk)
            continue
        model = apps.get_model(entry["model"])
        model._default_manager.filter(pk=entry["pk"]).update(**{entry["field"]: merged})
    pair = _pair_for(survivor, merged)
    if pair is not None and merge.pair_status:
        pair.status = merge.pair_status
        pair.decided_at = (
            None if merge.pair_status == PossibleDuplicate.Status.OPEN else pair.decided_at
        )
        pair.version += 1
        pair.updated_by = user
        pair.save(update_fields=["status", "decided_at", "version", "updated_by"])
    merge.undone_at = timezone.now()
    merge.undone_by = user
    merge.undo_reason = reason
    merge.version += 1
    merge.updated_by = user
    merge.save(update_fields=["undone_at", "undone_by", "undo_reason", "version", "updated_by"])
    AccessGrant.objects.filter(pk__in=merge.grants_added, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if merge.survivor_was_restricted is not None:
        survivor.restricted = merge.survivor_was_restricted
    merged.status = PersonStatus.ACTIVE
    merged.merged_into = None
    _bump(merged, user, "unmerge", ["status", "merged_into"])
    _bump(survivor, user, "unmerge", ["restricted"])
    moved_names = [e["pk"] for e in merge.moved if e["model"] == "people.personname"]
    for person, role in ((survivor, "survivor"), (merged, "merged")):
        audit.record(
            user=user,
            action="unmerge",
            record_type="person",
            record_id=person.pk,
            detail={"merge": str(merge.pk), "role": role, "restored": len(merge.moved)},
            reason=reason,
        )
    # The merged record's own names were the survivor's aliases while merged (see
    # matchindex.records_for); they are the merged record's own again.
    formerly_in = [merged.pk, *(p.pk for p in merged_records_of(merged))]
    reindex_on_commit(
        survivor.pk,
        merged.pk,
        drop=[
            *(alias_record_id(survivor.pk, name_pk) for name_pk in moved_names),
            *(alias_record_id(survivor.pk, pk) for pk in formerly_in),
        ],
    )
    return merge


def duplicates_find(*, threshold: float | None = None) -> int:
    """Run de-duplication over the active registry and queue the pairs found for review.

    ``threshold`` defaults to the policy's ``matching.possible_duplicate``, the same one
    person creation and intake use. Pairs the matcher kept apart by a guard (possible
    twins) are queued too, with the probability they would have had and the guard named:
    a steward decides. Each pair's probability and reasons come from one score, so the
    weights shown add up to the probability shown. Returns how many pairs are queued or
    refreshed.
    """
    if threshold is None:
        threshold = matching_policy().possible_duplicate
    people = list(
        Person.objects.filter(merged_into__isnull=True).prefetch_related(
            "names", "identifiers", "addresses", "phones"
        )
    )
    by_id = {str(p.pk): p for p in people}
    records = {str(p.pk): next(records_for(p)) for p in people}
    result = dedupe(list(records.values()), min_pair_probability=threshold)
    frequencies = TermFrequencies.from_records(normalize(r) for r in records.values())
    count = 0
    with transaction.atomic():
        for pair in [*result.pairs, *result.review]:
            score = score_pair(
                records[pair.left_id],
                records[pair.right_id],
                model=result.model,
                term_frequencies=frequencies,
            )
            guarded = any(c.field == GUARD for c in score.contributions)
            weight = weight_without_guard(score) if guarded else score.match_weight
            queued = duplicate_pair_record(
                a=by_id[pair.left_id],
                b=by_id[pair.right_id],
                probability=round(probability_from_weight(weight), 4),
                reasons=explain_score(score, count_guard=not guarded),
            )
            count += queued is not None
    return count
