"""Every write to cases: keyword-only, atomic, audited; each lifecycle move writes an event."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from kinfolk.cases.models import TRANSITIONS, Case, CaseEvent, CaseMember, MemberRole
from kinfolk.cases.policy import case_policy
from kinfolk.core import access, audit
from kinfolk.core.errors import Forbidden, ValidationFailed
from kinfolk.core.models import OrgUnit, User
from kinfolk.core.policy import agency_zone
from kinfolk.core.services import check_version
from kinfolk.intake.models import Report
from kinfolk.people.models import Person


def _today() -> date:
    return timezone.localdate(timezone=agency_zone())


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


def _move(case: Case, move: str, *, by: User | None, note: str = "") -> CaseEvent:
    """Apply a lifecycle move from ``TRANSITIONS``; a move it does not list raises."""
    allowed = TRANSITIONS[move]
    current = "" if case._state.adding else case.status
    if current not in allowed:
        raise _refuse("status", f"A {case.get_status_display().lower()} case cannot {move}.")
    case.status = allowed[current]
    return CaseEvent(case=case, move=move, from_status=current, to_status=case.status, by=by)


def _person(user: User, person_id: Any, field: str) -> Person:
    """A person the user may see, or a field error naming ``field`` (nothing is revealed)."""
    qs = access.visible(user, "person.view", Person.objects.filter(status="active"))
    try:
        return qs.get(pk=person_id)
    except (Person.DoesNotExist, DjangoValidationError, ValueError, TypeError):
        raise _refuse(field, "No such person in your scope.") from None


def _check_member(case: Case, role: str, start_date: date, field: str) -> None:
    if role not in MemberRole.values:
        raise _refuse(f"{field}.role", f"One of {', '.join(MemberRole.values)}.")
    if start_date < case.opened_on:
        raise _refuse(f"{field}.start_date", "A member cannot join before the case opened.")
    if start_date > _today():
        raise _refuse(f"{field}.start_date", "Cannot be in the future.")


def _new_number() -> str:
    return f"CS-{secrets.token_hex(5).upper()}"


@transaction.atomic
def case_open(
    *,
    user: User,
    org_unit: OrgUnit,
    kind: str,
    opened_on: date,
    members: Sequence[tuple[Any, str]] = (),
    primary_worker: User | None = None,
    source_report_id: Any = None,
) -> Case:
    """Open a case in ``org_unit`` (inside the user's ``case.manage`` scope) with its members
    (person id, role), each a member from ``opened_on``."""
    access.require_permission(user, "case.manage")
    if not any(org_unit.path.startswith(p) for p in access.scope_paths(user, "case.manage")):
        raise Forbidden("You can open cases only inside your own offices and counties.")
    errors: dict[str, list[str]] = {}
    if kind not in case_policy().kinds:
        errors["kind"] = [f"One of {', '.join(case_policy().kinds)}."]
    if opened_on > _today():
        errors["opened_on"] = ["Cannot be in the future."]
    if primary_worker is not None and not access.has_permission(primary_worker, "case.manage"):
        errors["primary_worker"] = ["This user's role does not run cases."]
    report = None
    if source_report_id is not None:
        report = (
            access.visible(user, "report.view", Report.objects.filter(pk=source_report_id))
            .exclude(track="")
            .first()
        )
        if report is None:
            errors["source_report"] = ["No such screened-in report in your scope."]
    if errors:
        raise ValidationFailed("The case could not be opened.", fields=errors)
    case = Case(
        org_unit=org_unit,
        number=_new_number(),
        kind=kind,
        opened_on=opened_on,
        primary_worker=primary_worker,
        source_report=report,
        created_by=user,
        updated_by=user,
    )
    event = _move(case, "open", by=user)
    people: list[CaseMember] = []
    seen: set[Any] = set()
    for i, (person_id, role) in enumerate(members):
        person = _person(user, person_id, f"members[{i}].person")
        if person.pk in seen:
            raise _refuse(f"members[{i}].person", "This person is already a member.")
        seen.add(person.pk)
        _check_member(case, role, opened_on, f"members[{i}]")
        people.append(
            CaseMember(
                case=case,
                person=person,
                role=role,
                start_date=opened_on,
                created_by=user,
                updated_by=user,
            )
        )
    case._change_reason = "open"  # type: ignore[attr-defined]
    case.save(force_insert=True)
    event.save()
    for member in people:
        member.save(force_insert=True)
    audit.record(
        user=user,
        action="create",
        record_type=Case.RECORD_TYPE,
        record_id=case.pk,
        fields=["kind", "opened_on", "org_unit", *(["members"] if people else [])],
        detail={"number": case.number, "members": [str(m.person_id) for m in people]},
    )
    return case


def _case_for_write(user: User, case_id: Any, expected_version: int) -> Case:
    case = access.access_record_by_id(
        user, Case, case_id, "case.manage", audit_view=False, for_update=True
    )
    check_version(case, expected_version)
    return case


def _bump(case: Case, user: User, reason: str, fields: Sequence[str] = ()) -> None:
    case.version += 1
    case.updated_by = user
    case.updated_at = timezone.now()
    case._change_reason = reason  # type: ignore[attr-defined]
    case.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


@transaction.atomic
def case_member_add(
    *,
    user: User,
    case_id: Any,
    expected_version: int,
    person_id: Any,
    role: str,
    start_date: date,
) -> CaseMember:
    """Add a person to an open case; a current member cannot be added twice."""
    case = _case_for_write(user, case_id, expected_version)
    if case.status != "open":
        raise _refuse("case", "A closed case takes no new members.")
    person = _person(user, person_id, "person")
    _check_member(case, role, start_date, "member")
    if case.members.filter(person=person, end_date__isnull=True).exists():
        raise _refuse("person", "This person is already a member of the case.")
    member = CaseMember.objects.create(
        case=case,
        person=person,
        role=role,
        start_date=start_date,
        created_by=user,
        updated_by=user,
    )
    _bump(case, user, "member added")
    audit.record(
        user=user,
        action="update",
        record_type=Case.RECORD_TYPE,
        record_id=case.pk,
        fields=["members"],
        detail={"version": case.version, "added": str(person.pk), "role": role},
    )
    return member


@transaction.atomic
def case_close(
    *, user: User, case_id: Any, expected_version: int, closed_on: date, reason: str
) -> Case:
    """Close an open case on ``closed_on`` for a reason from ``cases.close_reasons``; every
    current membership ends that day."""
    case = _case_for_write(user, case_id, expected_version)
    errors: dict[str, list[str]] = {}
    if reason not in case_policy().close_reasons:
        errors["reason"] = [f"One of {', '.join(case_policy().close_reasons)}."]
    if closed_on < case.opened_on:
        errors["closed_on"] = ["A case cannot close before it opened."]
    elif closed_on > _today():
        errors["closed_on"] = ["Cannot be in the future."]
    elif case.members.filter(end_date__isnull=True, start_date__gt=closed_on).exists():
        errors["closed_on"] = ["A member joined after this date."]
    if errors:
        raise ValidationFailed("The case could not be closed.", fields=errors)
    event = _move(case, "close", by=user)
    case.closed_on, case.close_reason = closed_on, reason
    _bump(case, user, "close", ["status", "closed_on", "close_reason"])
    event.save()
    for member in case.members.filter(end_date__isnull=True):
        member.end_date = closed_on
        member.version += 1
        member.updated_by = user
        member.updated_at = timezone.now()
        member._change_reason = "case closed"  # type: ignore[attr-defined]
        member.save(update_fields=["end_date", "version", "updated_by", "updated_at"])
    audit.record(
        user=user,
        action="update",
        record_type=Case.RECORD_TYPE,
        record_id=case.pk,
        fields=["status", "closed_on", "close_reason"],
        detail={"version": case.version, "reason": reason},
    )
    return case
