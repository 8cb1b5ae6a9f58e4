from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from kinfolk.core.models import OrgUnit, Role, RoleAssignment, Supervision, User


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "path"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "intake"]
    readonly_fields = ["code", "permissions"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0


@admin.register(User)
class KinfolkUserAdmin(UserAdmin):
    inlines = [RoleAssignmentInline]


admin.site.register(Supervision)
