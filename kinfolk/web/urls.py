from django.contrib.auth import views as auth_views
from django.urls import path

from kinfolk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_new, name="person-new"),
    path("people/duplicates/", views.person_duplicates, name="person-duplicates"),
    path("people/<str:person_id>/", views.person_detail, name="person"),
    path("people/<str:person_id>/edit/", views.person_edit, name="person-edit"),
    path(
        "people/<str:person_id>/break-glass/", views.person_break_glass, name="person-break-glass"
    ),
    path("audit/", views.audit_page, name="audit"),
    path(
        "audit/break-glass/<int:break_glass_id>/review/",
        views.break_glass_review,
        name="break-glass-review",
    ),
    path("users/", views.users_page, name="users"),
    path("users/<int:user_id>/roles/", views.user_role_add, name="user-role-add"),
    path("users/<int:user_id>/supervisor/", views.user_supervisor_set, name="user-supervisor"),
    path(
        "users/<int:user_id>/roles/<int:assignment_id>/remove/",
        views.user_role_remove,
        name="user-role-remove",
    ),
]
