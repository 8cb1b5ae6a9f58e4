"""The Django admin: administrators' reference data (org units, roles), every edit audited.

Users, roles held and supervision are managed on the users page (``/users/``) through the
services, and case records only ever change through their services: none is registered here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from kinfolk.core import access, audit
from kinfolk.core.models import OrgUnit, Role, User
from kinfolk.core.services import ADMIN_SITE_PERMISSION


class AuditedAdmin(admin.ModelAdmin):
    """Open to staff whose Kinfolk role manages users; each save and delete is an audit row."""

    record_type = ""

    def _allowed(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            isinstance(user, User)
            and user.is_active
            and user.is_staff
            and (user.is_superuser or access.has_permission(user, ADMIN_SITE_PERMISSION))
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def _audit(self, request: HttpRequest, action: str, obj: Model, fields: list[str]) -> None:
        audit.record(
            user=request.user if isinstance(request.user, User) else None,
            action=action,
            record_type=self.record_type,
            record_id=obj.pk,
            fields=fields,
            detail={"via": "django-admin"},
        )

    # The admin runs each change view in a transaction: the row and its audit row commit together.
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._audit(request, "update" if change else "create", obj, list(form.changed_data))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, "delete", obj, [])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self._audit(request, "delete", obj, [])
        super().delete_queryset(request, queryset)


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdmin):
    record_type = "org_unit"
    list_display = ["name", "code", "kind", "path"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(Role)
class RoleAdmin(AuditedAdmin):
    """Roles and their permissions come from the policy file; only the wording is edited here."""

    record_type = "role"
    list_display = ["label", "code", "intake"]
    readonly_fields = ["code", "permissions", "intake"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
