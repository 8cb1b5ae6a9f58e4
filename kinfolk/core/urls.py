from django.urls import path

from kinfolk.core import api_views

urlpatterns = [
    path("me/", api_views.MeApi.as_view(), name="me"),
    path("auth/token/", api_views.TokenApi.as_view(), name="token"),
    path("org-units/", api_views.OrgUnitListApi.as_view(), name="org-units"),
    path("audit/", api_views.AuditListApi.as_view(), name="audit"),
    path("audit/verify/", api_views.AuditVerifyApi.as_view(), name="audit-verify"),
    path("users/", api_views.UserListApi.as_view(), name="users"),
    path("users/<int:user_id>/roles/", api_views.UserRoleApi.as_view(), name="user-roles"),
    path(
        "users/<int:user_id>/supervisor/",
        api_views.UserSupervisorApi.as_view(),
        name="user-supervisor",
    ),
]
