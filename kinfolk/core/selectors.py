"""Reads of the shared kernel: audit trail (auditors), users and org units (administrators)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kinfolk.core import access
from kinfolk.core.models import AuditEvent, BreakGlass, OrgUnit, User


def audit_list(
    *,
    user: User,
    username: str = "",
    record_type: str = "",
    record_id: str = "",
    action: str = "",
    since: date | None = None,
    until: date | None = None,
    break_glass: bool | None = None,
) -> QuerySet[AuditEvent]:
    access.require_permission(user, "audit.view")
    qs = AuditEvent.objects.select_related("user").order_by("-id")
    if username:
        qs = qs.filter(username__iexact=username)
    if record_type:
        qs = qs.filter(record_type=record_type)
    if record_id:
        qs = qs.filter(record_id=record_id)
    if action:
        qs = qs.filter(action=action)
    zone = timezone.get_current_timezone()
    if since:
        qs = qs.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        qs = qs.filter(at__lte=datetime.combine(until, time.max, tzinfo=zone))
    if break_glass is not None:
        qs = qs.filter(break_glass=break_glass)
    return qs


def break_glass_unreviewed(*, user: User) -> QuerySet[BreakGlass]:
    access.require_permission(user, "audit.view")
    return BreakGlass.objects.filter(reviewed_at__isnull=True).select_related("user")


def user_list(*, user: User) -> QuerySet[User]:
    access.require_permission(user, "user.manage")
    return User.objects.prefetch_related(
        "role_assignments__role", "role_assignments__org_unit", "supervisors_set__supervisor"
    ).order_by("username")


def org_units(*, user: User) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.all().order_by("path")


def me(*, user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": [
            {
                "role": ra.role.code,
                "label": ra.role.label,
                "org_unit": ra.org_unit.code if ra.org_unit else None,
            }
            for ra in access._role_assignments(user)
        ],
        "permissions": sorted(access.permissions(user)),
    }
