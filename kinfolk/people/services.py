"""Every write to the people registry. Keyword-only, atomic, audited."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from kinfolk.core import access, audit, crypto
from kinfolk.core.errors import AccessDenied, Forbidden, ValidationFailed
from kinfolk.core.models import OrgUnit, User
from kinfolk.core.services import apply_changes
from kinfolk.people.models import (
    Address,
    Household,
    HouseholdMember,
    Identifier,
    Person,
    PersonName,
    Phone,
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


def _refresh_keys(person: Person) -> None:
    keys = keys_for(person.first_name, person.last_name)
    person.search_first, person.search_last = keys.first, keys.last
    person.search_first_key, person.search_last_key = keys.first_key, keys.last_key


def _unit_for_create(user: User, org_unit: OrgUnit) -> OrgUnit:
    if not any(org_unit.path.startswith(p) for p in access.scope_paths(user, "person.create")):
        raise Forbidden("You can add people only inside your own offices and counties.")
    return org_unit


@transaction.atomic
def person_create(
    *,
    user: User,
    org_unit: OrgUnit,
    values: Mapping[str, Any],
    names: Sequence[Mapping[str, Any]] = (),
    identifiers: Sequence[Mapping[str, Any]] = (),
    addresses: Sequence[Mapping[str, Any]] = (),
    phones: Sequence[Mapping[str, Any]] = (),
) -> Person:
    access.require_permission(user, "person.create")
    _unit_for_create(user, org_unit)
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={k: ["Unknown field."] for k in unknown})
    _check_person_values({"first_name": "", "last_name": "", **values})
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
    return apply_changes(
        instance=person,
        changes=changes,
        user=user,
        expected_version=expected_version,
        record_type="person",
    )


@transaction.atomic
def person_identifier_set(*, user: User, person_id: Any, kind: str, value: str) -> Identifier:
    person = _person_for_write(user, person_id)
    ident = _identifier_set(person=person, user=user, kind=kind, value=value)
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=[f"identifier:{kind}"],
    )
    return ident


@transaction.atomic
def person_name_add(*, user: User, person_id: Any, data: Mapping[str, Any]) -> PersonName:
    person = _person_for_write(user, person_id)
    name = _name_add(person=person, user=user, data=data)
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=["names"],
        detail={"name_id": str(name.pk)},
    )
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
    audit.record(
        user=user,
        action="update",
        record_type="person",
        record_id=person.pk,
        fields=["addresses"],
        detail={"address_id": str(address.pk)},
    )
    return address


@transaction.atomic
def person_phone_add(*, user: User, person_id: Any, number: str, kind: str) -> Phone:
    person = _person_for_write(user, person_id)
    phone = Phone.objects.create(
        person=person, number=number, kind=kind, created_by=user, updated_by=user
    )
    audit.record(
        user=user, action="update", record_type="person", record_id=person.pk, fields=["phones"]
    )
    return phone


@transaction.atomic
def relationship_add(
    *, user: User, person_id: Any, related_id: Any, kind: str, started: date | None = None
) -> Relationship:
    person = _person_for_write(user, person_id)
    try:
        related = access.access_record_by_id(
            user, Person, related_id, "person.view", audit_view=False
        )
    except AccessDenied:
        raise ValidationFailed("Unknown person.", fields={"related": ["No such person."]}) from None
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
        try:
            person = access.access_record_by_id(
                user, Person, person_id, "person.view", audit_view=False
            )
        except AccessDenied:
            raise ValidationFailed(
                "Unknown person.", fields={f"members[{index}].person": ["No such person."]}
            ) from None
        people.append((person, role))
    if len({p.pk for p, _ in people}) != len(people):
        raise ValidationFailed("A person is listed twice.", fields={"members": ["Listed twice."]})
    return household_create(user=user, org_unit=org_unit, label=label, members=people)
