"""Pages: thin, like the API — parse a form, call a service or selector, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kinfolk.core import access
from kinfolk.core import policy as core_policy
from kinfolk.core import selectors as core_selectors
from kinfolk.core import services as core_services
from kinfolk.core.api import actor
from kinfolk.core.errors import (
    AccessDenied,
    ApplicationError,
    Conflict,
    Forbidden,
    ValidationFailed,
)
from kinfolk.core.models import Assignment, AuditEvent, OrgUnit, RoleAssignment, User
from kinfolk.intake import selectors as intake_selectors
from kinfolk.intake import views as intake_views
from kinfolk.people import selectors, services
from kinfolk.people.models import Person
from kinfolk.web import forms


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired") == "1"
        if settings.KINFOLK_DEMO:
            from kinfolk.web.management.commands.load_demo import DEMO_PASSWORD, USERS

            names = dict(OrgUnit.objects.values_list("code", "name"))
            context["demo_password"] = DEMO_PASSWORD
            context["demo_logins"] = [
                (
                    username,
                    display,
                    role.replace("_", " "),
                    names.get(unit, unit) if unit else "a partner organisation",
                )
                for username, display, role, unit, _ in USERS
            ]
        return context


def _apply_errors(form: Any, error: ApplicationError) -> None:
    """Show a service's field messages next to the form's fields."""
    for name, msgs in error.fields.items():
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)
    if not error.fields:
        form.add_error(None, error.message)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/404.html", status=404)


def _forbidden(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(request, "web/403.html", {"message": error.message}, status=403)


# --- Home -----------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    roles = access.role_codes(user)
    perms = access.permissions(user)
    since = timezone.now() - timedelta(days=7)
    recent_ids = list(
        AuditEvent.objects.filter(user=user, action="view", record_type="person", at__gte=since)
        .order_by("-id")
        .values_list("record_id", flat=True)[:50]
    )
    seen: list[str] = []
    for rid in recent_ids:
        if rid not in seen:
            seen.append(rid)
    recent = []
    if "person.view" in perms and seen:
        by_id = {
            str(p.pk): p
            for p in access.visible(
                user,
                "person.view",
                Person.objects.filter(pk__in=seen[:8]),
            )
        }
        recent = [by_id[i] for i in seen[:8] if i in by_id]
    assigned = Assignment.objects.filter(user=user, ended_at__isnull=True).count()
    context: dict[str, Any] = {
        "roles": [ra for ra in access._role_assignments(user)],
        "recent_people": recent,
        "assigned_count": assigned,
    }
    if {"supervisor", "office_manager", "hotline_supervisor"} & roles:
        context["team"] = (
            User.objects.filter(supervisors_set__supervisor=user)
            .annotate(
                open_assignments=Count("assignments", filter=Q(assignments__ended_at__isnull=True))
            )
            .order_by("username")
        )
    if "audit.view" in perms:
        context["break_glass_pending"] = core_selectors.break_glass_unreviewed(user=user)[:20]
        context["denied_today"] = AuditEvent.objects.filter(
            action="denied", at__gte=timezone.now() - timedelta(days=1)
        ).count()
    if "user.manage" in perms:
        context["users_without_roles"] = User.objects.filter(
            role_assignments__isnull=True, is_active=True
        ).count()
        context["user_count"] = User.objects.filter(is_active=True).count()
    if "report.view" in perms:
        mine = intake_selectors.report_list(user=user, assigned_to_me=True, open_only=True)
        context["my_reports"] = intake_views.clock_rows(list(mine[:20]))
    if "report.approve" in perms or "report.assign" in perms:
        queue = intake_selectors.supervisor_queue(user=user)
        context["queue_counts"] = {
            "awaiting": len(queue.awaiting_approval),
            "unassigned": len(queue.unassigned),
            "overdue": sum(1 for r in queue.due if intake_views.clock(r)["css"] == "overdue"),
        }
    context["perms"] = perms
    context["role_codes"] = roles
    return render(request, "web/home.html", context)


# --- People ---------------------------------------------------------------------------------


@login_required
def people(request: HttpRequest) -> HttpResponse:
    if not access.has_permission(actor(request), "person.search"):
        return _forbidden(request, Forbidden("Your role does not include the people registry."))
    form = forms.SearchForm(request.GET or None)
    results: list[selectors.SearchResult] = []
    searched = False
    if form.is_bound and form.is_valid() and any(form.cleaned_data.values()):
        searched = True
        query = selectors.SearchQuery(
            name=form.cleaned_data["q"],
            date_of_birth=form.cleaned_data["date_of_birth"],
            identifier=form.cleaned_data["identifier"],
        )
        results = selectors.person_search(user=actor(request), query=query)
    template = (
        "web/_people_results.html" if request.headers.get("HX-Request") else "web/people.html"
    )
    return render(
        request,
        template,
        {
            "form": form,
            "results": results,
            "searched": searched,
            "can_create": access.has_permission(actor(request), "person.create"),
        },
    )


def _creatable_units(user: User) -> Any:
    paths = access.scope_paths(user, "person.create")
    units = OrgUnit.objects.none()
    for p in paths:
        units = units | OrgUnit.objects.filter(path__startswith=p, kind__in=["county", "office"])
    return units.distinct().order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "person.create"):
        return _forbidden(request, Forbidden("Your role cannot add people."))
    form = forms.PersonCreateForm(
        request.POST or None,
        units=_creatable_units(user),
        initial={"last_name": request.GET.get("last_name", "")},
    )
    candidates: list[dict[str, Any]] = []
    different_from = request.POST.getlist("different_from")
    confirmation_reason = request.POST.get("confirmation_reason", "")
    confirmation_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        ssn = data.pop("ssn", "")
        org_unit = data.pop("org_unit")
        try:
            # The registry is searched first; a possible duplicate is shown with its
            # evidence and needs "this is a different person" and a reason.
            person = services.person_create_after_search(
                user=user,
                org_unit=org_unit,
                values=data,
                identifiers=[{"kind": "ssn", "value": ssn}] if ssn else [],
                different_from=different_from,
                reason=confirmation_reason,
            )
        except ApplicationError as error:
            candidates = error.extra.get("candidates", [])
            confirmation_errors = [
                *error.fields.pop("different_from", []),
                *error.fields.pop("confirmation_reason", []),
            ]
            if error.fields or not confirmation_errors:
                _apply_errors(form, error)
        else:
            messages.success(request, "Person added.")
            return redirect("web:person", person_id=person.pk)
    return render(
        request,
        "web/person_form.html",
        {
            "form": form,
            "creating": True,
            "candidates": candidates,
            "different_from": different_from,
            "confirmation_reason": confirmation_reason,
            "confirmation_errors": confirmation_errors,
            "likely": core_policy.matching_policy().likely_duplicate,
        },
        status=400 if request.method == "POST" and (candidates or confirmation_errors) else 200,
    )


@login_required
def person_detail(request: HttpRequest, person_id: str) -> HttpResponse:
    user = actor(request)
    try:
        person = selectors.person_get(user=user, person_id=person_id)
    except AccessDenied:
        # Same page whether the record is missing or outside scope: existence is not revealed.
        return render(
            request,
            "web/404.html",
            {
                "person_id": person_id,
                "can_break_glass": access.has_permission(user, "break_glass.use"),
                "form": forms.BreakGlassForm(),
            },
            status=404,
        )
    decision = access.can_access(user, person, "person.view")
    return render(
        request,
        "web/person.html",
        {
            "person": person,
            "history": selectors.person_timeline(person=person),
            "today": timezone.localdate(),
            "break_glass": decision.break_glass,
            "can_edit": access.can_access(user, person, "person.update").allowed,
        },
    )


@login_required
@require_POST
def person_break_glass(request: HttpRequest, person_id: str) -> HttpResponse:
    user = actor(request)
    form = forms.BreakGlassForm(request.POST)
    if form.is_valid():
        try:
            person = selectors.person_for_break_glass(user=user, person_id=person_id)
            access.break_glass_open(user=user, record=person, reason=form.cleaned_data["reason"])
        except AccessDenied:
            return render(request, "web/404.html", status=404)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.warning(request, "Emergency access opened. The auditor has been notified.")
            return redirect("web:person", person_id=person_id)
    return render(
        request,
        "web/404.html",
        {"person_id": person_id, "can_break_glass": True, "form": form},
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: str) -> HttpResponse:
    user = actor(request)
    try:
        person = selectors.person_get(user=user, person_id=person_id, action="person.update")
    except AccessDenied:
        return render(request, "web/404.html", status=404)
    fields = list(forms.PersonForm.base_fields)
    initial = {name: getattr(person, name) for name in fields} | {"version": person.version}
    form = forms.PersonEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        changes = {k: v for k, v in data.items() if getattr(person, k) != v}
        try:
            services.person_update(
                user=user, person_id=person.pk, expected_version=version, changes=changes
            )
        except Conflict:
            current = selectors.person_get(user=user, person_id=person_id)
            rows = [
                (
                    form.fields[name].label or name.replace("_", " ").capitalize(),
                    getattr(current, name),
                    data.get(name),
                )
                for name in fields
            ]
            return render(
                request,
                "web/conflict.html",
                {
                    "person": current,
                    "rows": rows,
                    "yours_version": version,
                },
                status=409,
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("web:person", person_id=person.pk)
    return render(
        request, "web/person_form.html", {"form": form, "person": person, "creating": False}
    )


# --- Auditor --------------------------------------------------------------------------------


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "audit.view"):
        return _forbidden(request, Forbidden("Only auditors read the audit trail."))
    form = forms.AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            k: data[k] for k in ("username", "record_id", "action", "since", "until") if data.get(k)
        }
        if data.get("break_glass"):
            filters["break_glass"] = True
    rows = core_selectors.audit_list(user=user, **filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "pending": core_selectors.break_glass_unreviewed(user=user),
        },
    )


# --- Users and roles ------------------------------------------------------------------------


def _users_page(
    request: HttpRequest,
    user: User,
    *,
    form: forms.UserCreateForm,
    supervisor_forms: dict[int, forms.SupervisorForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    users = list(core_selectors.user_list(user=user))
    supervisor_forms = supervisor_forms or {}
    rows = []
    for u in users:
        current = sorted(link.supervisor.username for link in u.supervisors_set.all())
        rows.append(
            {
                "user": u,
                "supervisors": current,
                "supervisor_form": supervisor_forms.get(u.pk)
                or forms.SupervisorForm(
                    initial={"supervisor": current[0] if len(current) == 1 else ""},
                    auto_id=f"id_supervisor_{u.pk}_%s",
                ),
            }
        )
    return render(
        request,
        "web/users.html",
        {
            "form": form,
            "rows": rows,
            "usernames": [u.username for u in users if u.is_active],
            "role_form": forms.RoleAddForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def users_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "user.manage"):
        return _forbidden(request, Forbidden("Only administrators manage users."))
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            core_services.user_create(
                by=user,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                email=data["email"],
                roles=[(data["role"].code, data["org_unit"])],
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "User created.")
            return redirect("web:users")
    return _users_page(request, user, form=form)


@login_required
@require_POST
def user_supervisor_set(request: HttpRequest, user_id: int) -> HttpResponse:
    """Set (or, with an empty username or the Clear button, remove) a user's supervisor."""
    user = actor(request)
    if not access.has_permission(user, "user.manage"):
        return _forbidden(request, Forbidden("Only administrators manage users."))
    target = core_selectors.user_list(user=user).filter(pk=user_id).first()
    if target is None:
        return render(request, "web/404.html", status=404)
    data = request.POST.copy()
    if data.get("action") == "clear":
        data["supervisor"] = ""
    form = forms.SupervisorForm(data, auto_id=f"id_supervisor_{target.pk}_%s")
    if form.is_valid():
        try:
            core_services.supervisor_set(
                by=user, supervisee=target, supervisor=form.cleaned_data["supervisor"]
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Supervisor saved.")
            return redirect(reverse("web:users") + f"#user-{target.pk}")
    return _users_page(
        request, user, form=forms.UserCreateForm(), supervisor_forms={target.pk: form}, status=400
    )


@login_required
@require_POST
def user_role_add(request: HttpRequest, user_id: int) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "user.manage"):
        return _forbidden(request, Forbidden("Only administrators manage users."))
    target = core_selectors.user_list(user=user).filter(pk=user_id).first()
    form = forms.RoleAddForm(request.POST)
    if target is None:
        return render(request, "web/404.html", status=404)
    if form.is_valid():
        try:
            core_services.role_assign(
                by=user,
                user=target,
                role_code=form.cleaned_data["role"].code,
                org_unit=form.cleaned_data["org_unit"],
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Role added.")
    else:
        messages.error(request, "Choose a role (and its org unit).")
    return redirect(reverse("web:users") + f"#user-{target.pk}")


@login_required
@require_POST
def user_role_remove(request: HttpRequest, user_id: int, assignment_id: int) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "user.manage"):
        return _forbidden(request, Forbidden("Only administrators manage users."))
    assignment = RoleAssignment.objects.filter(pk=assignment_id, user_id=user_id).first()
    if assignment is None:
        return render(request, "web/404.html", status=404)
    core_services.role_revoke(by=user, assignment=assignment)
    messages.success(request, "Role removed.")
    return redirect(reverse("web:users") + f"#user-{user_id}")


@login_required
@require_POST
def break_glass_review(request: HttpRequest, break_glass_id: int) -> HttpResponse:
    user = actor(request)
    try:
        access.break_glass_review(
            auditor=user, break_glass_id=break_glass_id, note=request.POST.get("note", "")
        )
    except Forbidden as error:
        return _forbidden(request, error)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Marked as reviewed.")
    return redirect("web:audit")


@login_required
@require_http_methods(["GET", "POST"])
def person_duplicates(request: HttpRequest) -> HttpResponse:
    """The data steward's queue: possible duplicate pairs to merge or set apart; recent merges."""
    user = actor(request)
    if not access.has_permission(user, "person.merge"):
        return render(request, "web/403.html", status=403)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        # A pair's form names both records ("person", twice) and the one the steward keeps
        # ("survivor"); the other is merged into it.
        pair = request.POST.getlist("person")
        survivor_id = request.POST.get("survivor", "")
        merged_id = request.POST.get("merged", "") or next(
            (pk for pk in pair if pk != survivor_id), ""
        )
        try:
            if action == "merge":
                if len(pair) == 2 and survivor_id not in pair:
                    raise ValidationFailed(
                        "Choose the record to keep.",
                        fields={"survivor": ["Choose which record to keep."]},
                    )
                services.person_merge(
                    user=user, survivor_id=survivor_id, merged_id=merged_id, reason=reason
                )
                messages.success(request, "Records merged. The merge can be undone below.")
            elif action == "different":
                first, second = (pair + ["", ""])[:2] if pair else (survivor_id, merged_id)
                services.duplicate_confirm_different(
                    user=user, person_id=first, other_id=second, reason=reason
                )
                messages.success(request, "Recorded as different people.")
            elif action == "unmerge":
                services.person_unmerge(
                    user=user, merge_id=request.POST.get("merge", ""), reason=reason
                )
                messages.success(request, "Merge undone.")
            else:
                errors = {"action": ["Choose merge, different or unmerge."]}
            if not errors:
                return redirect("web:person-duplicates")
        except ApplicationError as exc:
            errors = exc.fields or {"__all__": [exc.message]}
            status = exc.status
    context = {
        "pairs": selectors.duplicate_list(user=user),
        "merges": selectors.merge_list(user=user),
        "errors": errors,
        "likely": core_policy.matching_policy().likely_duplicate,
    }
    return render(request, "web/duplicates.html", context, status=status)
