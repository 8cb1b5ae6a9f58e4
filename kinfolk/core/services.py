"""Writes that every app shares: versioned updates, org units, users and roles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone

from kinfolk.core import access, audit
from kinfolk.core.errors import Conflict, ValidationFailed
from kinfolk.core.models import BaseModel, OrgUnit, Role, RoleAssignment, Supervision, User
from kinfolk.core.policy import get_policy

M = TypeVar("M", bound=BaseModel)

# Fields whose values never go into an audit row, only their names.
SENSITIVE_FIELDS = frozenset({"value_encrypted", "digest", "narrative", "password"})


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def check_version(instance: BaseModel, expected_version: int) -> None:
    """``Conflict`` (412) unless the locked row is still at the version the client read."""
    if instance.version != expected_version:
        raise Conflict(
            f"This record was changed by someone else (now version {instance.version}, "
            f"you edited version {expected_version}).",
            extra={"current_version": instance.version},
        )


def apply_changes(
    *,
    instance: M,
    changes: Mapping[str, Any],
    user: User,
    expected_version: int,
    record_type: str,
    audit_record_id: Any = None,
) -> M:
    """Apply ``changes`` to ``instance`` if its version is still ``expected_version``.

    The caller has locked the row (``select_for_update``), so the comparison and the write
    are one step: a stale writer gets ``Conflict`` (412), never a silent overwrite.
    """
    check_version(instance, expected_version)
    changed: dict[str, list[Any]] = {}
    for name, value in changes.items():
        old = getattr(instance, name)
        if old != value:
            changed[name] = [old, value]
            setattr(instance, name, value)
    if not changed:
        return instance
    instance.version += 1
    instance.updated_at = timezone.now()
    instance.updated_by = user
    instance._change_reason = "update"  # type: ignore[attr-defined]
    instance.save(update_fields=[*changed, "version", "updated_at", "updated_by"])
    shown = {k: v for k, v in changed.items() if not k.startswith("search_")}
    audit.record(
        user=user,
        action="update",
        record_type=record_type,
        record_id=audit_record_id or instance.pk,
        fields=list(shown),
        detail={
            "version": instance.version,
            "changes": {
                k: ([_plain(a), _plain(b)] if k not in SENSITIVE_FIELDS else ["…", "…"])
                for k, (a, b) in shown.items()
            },
        },
    )
    return instance


@transaction.atomic
def planner_statistics_refresh() -> None:
    """After a bulk load, give PostgreSQL's planner statistics for the new rows.

    Until autovacuum gets to them (it may be late, or off as on the CI machines), a freshly
    loaded table looks empty to the planner, and a duplicate check can pick a plan that reads
    the whole person table. SQLite plans without them.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def roles_sync_from_policy() -> int:
    """Make the Role table match the policy file (roles are data, edited in the policy)."""
    policy = get_policy()
    for spec in policy.roles.values():
        Role.objects.update_or_create(
            code=spec.code,
            defaults={
                "label": spec.label,
                "permissions": sorted(spec.permissions),
                "intake": spec.intake,
                "description": spec.description,
            },
        )
    return len(policy.roles)


@transaction.atomic
def org_unit_create(*, code: str, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
    order = OrgUnit.KIND_ORDER
    if kind not in order:
        raise ValidationFailed("Unknown kind.", fields={"kind": [f"One of {', '.join(order)}."]})
    if parent is None and kind != "state":
        raise ValidationFailed("Only a state has no parent.", fields={"parent": ["Required."]})
    if parent is not None and order.index(kind) <= order.index(parent.kind):
        raise ValidationFailed(
            "A unit must sit below its parent.", fields={"kind": ["Must be below the parent."]}
        )
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent)
    unit.save()
    return unit


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    roles: Iterable[tuple[str, OrgUnit | None]] = (),
    check_password: bool = True,
) -> User:
    if by is not None:
        access.require_permission(by, "user.manage")
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username or len(username) > 150:
        errors["username"] = ["Required, at most 150 characters."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if check_password:
        try:
            validate_password(password, User(username=username, email=email))
        except DjangoValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed("The user could not be created.", fields=errors)
    user = User(username=username, display_name=display_name[:200], email=email)
    user.set_password(password)
    user.save()
    for role_code, unit in roles:
        role_assign(by=None, user=user, role_code=role_code, org_unit=unit)
    audit.record(
        user=by,
        action="create",
        record_type="user",
        record_id=user.pk,
        fields=["username", "display_name", "email"],
    )
    return user


@transaction.atomic
def role_assign(
    *, by: User | None, user: User, role_code: str, org_unit: OrgUnit | None
) -> RoleAssignment:
    if by is not None:
        access.require_permission(by, "user.manage")
    try:
        role = Role.objects.get(code=role_code)
    except Role.DoesNotExist:
        raise ValidationFailed("Unknown role.", fields={"role": ["Unknown role."]}) from None
    if role_code != "partner_staff" and org_unit is None:
        raise ValidationFailed(
            "Choose the org unit of the role.", fields={"org_unit": ["Required."]}
        )
    assignment, _ = RoleAssignment.objects.get_or_create(user=user, role=role, org_unit=org_unit)
    access.forget_roles(user)
    staff = _staff_sync(user)
    audit.record(
        user=by,
        action="grant",
        record_type="user",
        record_id=user.pk,
        fields=["is_staff"] if staff else [],
        detail={"role": role_code, "org_unit": str(org_unit.pk) if org_unit else None},
    )
    return assignment


# The Django admin (reference data: org units, roles) is for roles that manage users.
ADMIN_SITE_PERMISSION = "user.manage"


def _staff_sync(user: User) -> bool:
    """Keep ``is_staff`` (entry to the Django admin) in step with the user's roles.

    Returns whether it changed. Superusers are left alone: they are made by hand.
    """
    # JSON "contains" differs between SQLite and PostgreSQL; a user has a handful of roles.
    should = any(
        ADMIN_SITE_PERMISSION in ra.role.permissions
        for ra in RoleAssignment.objects.filter(user=user).select_related("role")
    )
    if user.is_superuser or user.is_staff == should:
        return False
    user.is_staff = should
    user.save(update_fields=["is_staff"])
    return True


@transaction.atomic
def role_revoke(*, by: User, assignment: RoleAssignment) -> None:
    access.require_permission(by, "user.manage")
    audit.record(
        user=by,
        action="delete",
        record_type="role_assignment",
        record_id=assignment.user_id,
        detail={"role": assignment.role_id, "org_unit": str(assignment.org_unit_id)},
    )
    user = assignment.user
    assignment.delete()
    access.forget_roles(user)
    if _staff_sync(user):
        audit.record(
            user=by, action="update", record_type="user", record_id=user.pk, fields=["is_staff"]
        )


def _supervision_problem(*, supervisor: User, supervisee: User) -> str:
    """Why ``supervisor`` may not supervise ``supervisee``, or "" when they may."""
    if supervisor.pk == supervisee.pk:
        return "Nobody supervises themselves."
    # Walk up from the new supervisor: meeting the supervisee would close a loop.
    seen: set[int] = set()
    frontier = {supervisor.pk}
    while frontier:
        if supervisee.pk in frontier:
            return "That would make a loop: this user already (indirectly) supervises them."
        seen |= frontier
        frontier = (
            set(
                Supervision.objects.filter(supervisee_id__in=frontier).values_list(
                    "supervisor_id", flat=True
                )
            )
            - seen
        )
    return ""


def _supervision_audit(*, by: User | None, action: str, link: Supervision) -> None:
    audit.record(
        user=by,
        action=action,
        record_type="supervision",
        record_id=link.supervisee_id,
        fields=["supervisor"],
        detail={"supervisor": link.supervisor_id, "supervisee": link.supervisee_id},
    )


@transaction.atomic
def supervision_set(*, by: User | None = None, supervisor: User, supervisee: User) -> Supervision:
    """Add ``supervisor`` to the supervisee's supervisors (refusing self and loops)."""
    if by is not None:
        access.require_permission(by, "user.manage")
    problem = _supervision_problem(supervisor=supervisor, supervisee=supervisee)
    if problem:
        raise ValidationFailed(problem, fields={"supervisor": [problem]})
    link, created = Supervision.objects.get_or_create(supervisor=supervisor, supervisee=supervisee)
    if created:
        _supervision_audit(by=by, action="create", link=link)
    return link


@transaction.atomic
def supervisor_set(*, by: User, supervisee: User, supervisor: User | None) -> User:
    """Make ``supervisor`` the one supervisor of ``supervisee``; ``None`` clears it."""
    access.require_permission(by, "user.manage")
    if supervisor is not None:
        problem = _supervision_problem(supervisor=supervisor, supervisee=supervisee)
        if problem:
            raise ValidationFailed(problem, fields={"supervisor": [problem]})
    for link in Supervision.objects.select_for_update().filter(supervisee=supervisee):
        if supervisor is not None and link.supervisor_id == supervisor.pk:
            continue
        _supervision_audit(by=by, action="delete", link=link)
        link.delete()
    if supervisor is not None:
        supervision_set(by=by, supervisor=supervisor, supervisee=supervisee)
    return supervisee
