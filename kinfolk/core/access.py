"""The access policy, in one place.

A user may do an action on a record when
  their role allows the action, AND
  the record is not restricted, or they hold an explicit grant on it, AND
  one of: the record lies inside a scope where they hold such a role; they are
  assigned to it; they supervise someone assigned to it; they opened it by break-glass.

``can_access`` decides for one record, one condition per line so each reason is a test;
``scope_filter`` is the same rule as a query, which selectors apply so no list can ever
contain a record the user may not see. A property test holds the two to each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from kinfolk.core import audit
from kinfolk.core.errors import AccessDenied, Forbidden, NotFound, ValidationFailed
from kinfolk.core.models import (
    AccessGrant,
    Assignment,
    BreakGlass,
    OrgUnit,
    RoleAssignment,
    ScopedRecord,
    Supervision,
    User,
)

R = TypeVar("R", bound=ScopedRecord)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    break_glass: bool = False


# --- What the user's roles allow ------------------------------------------------------------


def _role_assignments(user: User) -> list[RoleAssignment]:
    cached: list[RoleAssignment] | None = getattr(user, "_kinfolk_roles", None)
    if cached is None:
        cached = list(user.role_assignments.select_related("role", "org_unit"))
        user._kinfolk_roles = cached  # type: ignore[attr-defined]
    return cached


def forget_roles(user: User) -> None:
    """Drop the per-request cache of a user's roles (after they change)."""
    for cached in ("_kinfolk_roles", "_kinfolk_permissions"):
        if hasattr(user, cached):
            delattr(user, cached)


def permissions(user: User) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return {p for ra in _role_assignments(user) for p in ra.role.permissions}


def has_permission(user: User, action: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # Asked many times a request; cached with the roles it is made of.
    cached: frozenset[str] | None = getattr(user, "_kinfolk_permissions", None)
    if cached is None:
        cached = frozenset(permissions(user))
        user._kinfolk_permissions = cached  # type: ignore[attr-defined]
    return action in cached


def role_codes(user: User) -> set[str]:
    if not user.is_authenticated:
        return set()
    return {ra.role.code for ra in _role_assignments(user)}


def is_intake(user: User) -> bool:
    return user.is_authenticated and any(ra.role.intake for ra in _role_assignments(user))


def scope_paths(user: User, action: str) -> list[str]:
    """The org-unit paths inside which the user's roles allow ``action``."""
    if not user.is_authenticated or not user.is_active:
        return []
    return sorted(
        {
            ra.org_unit.path
            for ra in _role_assignments(user)
            if ra.org_unit is not None and action in ra.role.permissions
        }
    )


def require_permission(user: User, action: str) -> None:
    if not has_permission(user, action):
        raise Forbidden("Your role does not allow this.", code="forbidden")


# --- One record -----------------------------------------------------------------------------


def _in_scope(user: User, action: str, unit: OrgUnit) -> bool:
    return any(unit.path.startswith(path) for path in scope_paths(user, action))


def _is_assigned(user: User, record_type: str, record_id: Any) -> bool:
    return Assignment.objects.filter(
        user=user, record_type=record_type, record_id=record_id, ended_at__isnull=True
    ).exists()


def _supervises_assignee(user: User, record_type: str, record_id: Any) -> bool:
    return Assignment.objects.filter(
        user__supervisors_set__supervisor=user,
        record_type=record_type,
        record_id=record_id,
        ended_at__isnull=True,
    ).exists()


def _has_grant(user: User, record_type: str, record_id: Any) -> bool:
    return AccessGrant.objects.filter(
        user=user, record_type=record_type, record_id=record_id, revoked_at__isnull=True
    ).exists()


def _has_break_glass(user: User, record_type: str, record_id: Any, now: datetime) -> bool:
    return BreakGlass.objects.filter(
        user=user, record_type=record_type, record_id=record_id, expires_at__gt=now
    ).exists()


def can_access(
    user: User, record: ScopedRecord, action: str, *, now: datetime | None = None
) -> Decision:
    now = now or timezone.now()
    kind, pk = record.RECORD_TYPE, record.pk
    if not user.is_authenticated or not user.is_active:
        return Decision(False, "not signed in")
    if not has_permission(user, action):
        return Decision(False, "role does not allow the action")
    if record.restricted and not _has_grant(user, kind, pk):
        return Decision(False, "restricted record without a grant")
    if _in_scope(user, action, record.org_unit):
        return Decision(True, "in scope")
    if _is_assigned(user, kind, pk):
        return Decision(True, "assigned")
    if _supervises_assignee(user, kind, pk):
        return Decision(True, "supervises the assigned worker")
    if _has_break_glass(user, kind, pk, now):
        return Decision(True, "break-glass", break_glass=True)
    return Decision(False, "outside the user's scope")


# --- Many records: the same rule as a query -------------------------------------------------


def _personal_reach(user: User, kind: str, now: datetime) -> tuple[list[Any], list[Any]]:
    """The records of one type this user reaches in person (assigned, supervising the
    assigned worker, break-glass), and those they hold a grant on.

    One small query for all four: they are a handful of ids, and as subqueries in every
    scoped query they cost more to build and compile than the query they filter.
    """
    a, s, b, g = Assignment._meta, Supervision._meta, BreakGlass._meta, AccessGrant._meta
    q = connection.ops.quote_name
    sql = (
        f"SELECT 0, record_id FROM {q(a.db_table)} "  # noqa: S608 - names from the models
        "WHERE user_id = %s AND record_type = %s AND ended_at IS NULL "
        f"UNION ALL SELECT 0, x.record_id FROM {q(a.db_table)} x "
        f"JOIN {q(s.db_table)} y ON y.supervisee_id = x.user_id "
        "WHERE y.supervisor_id = %s AND x.record_type = %s AND x.ended_at IS NULL "
        f"UNION ALL SELECT 0, record_id FROM {q(b.db_table)} "
        "WHERE user_id = %s AND record_type = %s AND expires_at > %s "
        f"UNION ALL SELECT 1, record_id FROM {q(g.db_table)} "
        "WHERE user_id = %s AND record_type = %s AND revoked_at IS NULL"
    )
    expires = b.get_field("expires_at").get_db_prep_value(now, connection)
    params = [user.pk, kind, user.pk, kind, user.pk, kind, expires, user.pk, kind]
    record_id = a.get_field("record_id")
    reach: list[Any] = []
    grants: list[Any] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for granted, value in cursor.fetchall():
            (grants if granted else reach).append(record_id.to_python(value))
    return reach, grants


def scope_filter(
    user: User, action: str, model: type[ScopedRecord], *, now: datetime | None = None
) -> Q:
    now = now or timezone.now()
    kind = model.RECORD_TYPE
    if not user.is_authenticated or not user.is_active or not has_permission(user, action):
        return Q(pk__in=[])
    reach = Q(pk__in=[])
    for path in scope_paths(user, action):
        reach |= Q(org_unit__path__startswith=path)
    # Assigned, supervising the assigned worker, or by break-glass; and the grants that
    # open a restricted record.
    personal, grants = _personal_reach(user, kind, now)
    if personal:
        reach |= Q(pk__in=personal)
    unrestricted = Q(restricted=False)
    if grants:
        unrestricted |= Q(pk__in=grants)
    return reach & unrestricted


def visible(user: User, action: str, queryset: QuerySet[R]) -> QuerySet[R]:
    return queryset.filter(scope_filter(user, action, queryset.model))


def access_record_by_id(
    user: User,
    model: type[R],
    record_id: object,
    action: str,
    *,
    queryset: QuerySet[R] | None = None,
    audit_view: bool = True,
    for_update: bool = False,
) -> R:
    """Fetch one record for ``action`` or raise ``AccessDenied`` (a 404).

    A refused read writes a ``denied`` audit row; a granted one writes a ``view`` row
    (flagged when the access came by break-glass). Both go in the caller's transaction.
    """
    qs = queryset if queryset is not None else model._default_manager.all()
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        record = qs.select_related("org_unit").get(pk=record_id)
    except (ObjectDoesNotExist, DjangoValidationError, ValueError):
        audit.record(
            user=user,
            action="denied",
            record_type=model.RECORD_TYPE,
            record_id=record_id,
            detail={"action": action, "why": "no such record"},
        )
        raise AccessDenied() from None
    return access_record(user, record, action, audit_view=audit_view)


def access_record(user: User, record: R, action: str, *, audit_view: bool = True) -> R:
    """The same decision and audit rows as ``access_record_by_id``, for a record the caller
    already holds (e.g. one it has just written and need not read back)."""
    decision = can_access(user, record, action)
    if not decision.allowed:
        audit.record(
            user=user,
            action="denied",
            record_type=record.RECORD_TYPE,
            record_id=record.pk,
            detail={"action": action, "why": decision.reason},
        )
        raise AccessDenied()
    if audit_view:
        audit.record(
            user=user,
            action="view",
            record_type=record.RECORD_TYPE,
            record_id=record.pk,
            detail={"action": action, "via": decision.reason},
            break_glass=decision.break_glass,
        )
    return record


def referenced_record(
    user: User, model: type[R], record_id: object, action: str, *, field: str, what: str
) -> R:
    """A record that a write refers to by id (no ``view`` row: the write is audited).

    One that does not exist or is out of the user's reach is bad input to the write, like any
    other value: ``ValidationFailed`` on ``field`` ("Unknown <what>.", "No such <what>."), not a
    404. The refusal's ``denied`` audit row is written as for any refused read.
    """
    try:
        return access_record_by_id(user, model, record_id, action, audit_view=False)
    except AccessDenied:
        raise ValidationFailed(f"Unknown {what}.", fields={field: [f"No such {what}."]}) from None


# --- Break-glass and grants -----------------------------------------------------------------


def break_glass_open(*, user: User, record: ScopedRecord, reason: str) -> BreakGlass:
    """Open a record outside the user's scope for a limited time, with a reason the auditor sees."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed(
            "Say why you need this record (at least 10 characters).",
            fields={"reason": ["Give a reason of at least 10 characters."]},
        )
    if len(reason) > 2000:
        raise ValidationFailed("Reason too long.", fields={"reason": ["At most 2000 characters."]})
    if not has_permission(user, "break_glass.use"):
        raise Forbidden("Your role does not allow emergency access.")
    if record.restricted and not _has_grant(user, record.RECORD_TYPE, record.pk):
        # Emergency access widens scope; it never opens a restricted record.
        raise AccessDenied()
    now = timezone.now()
    grant = BreakGlass.objects.create(
        user=user,
        record_type=record.RECORD_TYPE,
        record_id=record.pk,
        reason=reason,
        opened_at=now,
        expires_at=now + timedelta(minutes=settings.KINFOLK_BREAK_GLASS_MINUTES),
    )
    audit.record(
        user=user,
        action="break_glass",
        record_type=record.RECORD_TYPE,
        record_id=record.pk,
        reason=reason,
        break_glass=True,
    )
    return grant


def grant_access(*, granted_by: User, user: User, record: ScopedRecord, reason: str) -> AccessGrant:
    require_permission(granted_by, "user.manage")
    grant = AccessGrant.objects.create(
        user=user,
        record_type=record.RECORD_TYPE,
        record_id=record.pk,
        granted_by=granted_by,
        reason=reason,
    )
    audit.record(
        user=granted_by,
        action="grant",
        record_type=record.RECORD_TYPE,
        record_id=record.pk,
        detail={"grantee": user.pk},
        reason=reason,
    )
    return grant


def supervisee_ids(user: User) -> list[int]:
    return list(Supervision.objects.filter(supervisor=user).values_list("supervisee_id", flat=True))


def break_glass_review(*, auditor: User, break_glass_id: int, note: str = "") -> BreakGlass:
    """An auditor marks an emergency access as reviewed; the review itself is audited."""
    require_permission(auditor, "audit.view")
    try:
        entry = BreakGlass.objects.select_for_update().get(pk=break_glass_id)
    except BreakGlass.DoesNotExist:
        raise NotFound() from None
    if entry.reviewed_at is not None:
        raise ValidationFailed("Already reviewed.", fields={"break_glass": ["Already reviewed."]})
    entry.reviewed_by = auditor
    entry.reviewed_at = timezone.now()
    entry.save(update_fields=["reviewed_by", "reviewed_at"])
    audit.record(
        user=auditor,
        action="update",
        record_type="break_glass",
        record_id=entry.pk,
        fields=["reviewed_at"],
        reason=note[:2000],
    )
    return entry
