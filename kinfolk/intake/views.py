"""Hotline pages: intake, the supervisor's live queue, the office list, the report page."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kinfolk.core import access
from kinfolk.core.api import actor
from kinfolk.core.errors import AccessDenied, ApplicationError, Conflict
from kinfolk.core.models import OrgUnit, User
from kinfolk.core.policy import get_policy
from kinfolk.intake import selectors, services
from kinfolk.intake.forms import (
    ADULT_SLOTS,
    ALLEGATION_SLOTS,
    CHILD_SLOTS,
    AssignForm,
    ContactForm,
    IntakeForm,
    NoteForm,
    ScreenForm,
)
from kinfolk.intake.models import Report, ReportPerson
from kinfolk.intake.policy import intake_policy
from kinfolk.people import selectors as people_selectors

_PEOPLE_ERROR = re.compile(r"^people\[(\d+)\]\.?(\w*)$")
_ALLEG_ERROR = re.compile(r"^allegations\[(\d+)\]\.(\w+)$")
_DRAFT_KEY = re.compile(r"^[a-f0-9]{32}$")


def _denied(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/403.html", {"message": message}, status=403)


def _offices(user: User) -> list[tuple[str, str]]:
    paths = access.scope_paths(user, "report.create")
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(path__startswith=p)
    return [(u.code, u.name) for u in OrgUnit.objects.filter(q, kind="office").order_by("name")]


def clock(report: Report, now: datetime | None = None) -> dict[str, str]:
    """The due clock as text and a colour class: nobody should need colour to read it."""
    left = selectors.time_left(report, now)
    if left is None or report.status in {"responded", "closed", "screened_out"}:
        return {"text": "", "css": ""}
    minutes = int(abs(left.total_seconds()) // 60)
    span = (
        f"{minutes // 1440}d {minutes % 1440 // 60}h"
        if minutes >= 1440
        else (f"{minutes // 60}h {minutes % 60:02d}m")
    )
    if left.total_seconds() < 0:
        return {"text": f"Overdue by {span}", "css": "overdue"}
    return {"text": f"Due in {span}", "css": "soon" if left < timedelta(hours=4) else "ok"}


def clock_rows(reports: list[Report]) -> list[dict[str, Any]]:
    return [{"report": r, "clock": clock(r)} for r in reports]


# --- Intake ---------------------------------------------------------------------------------


def _entries(
    form: IntakeForm,
) -> tuple[list[services.PersonEntry], list[str], list[dict[str, Any]], list[str]]:
    data = form.cleaned_data
    people: list[services.PersonEntry] = []
    slots: list[str] = []
    for kind, count in (("child", CHILD_SLOTS), ("adult", ADULT_SLOTS)):
        for n in range(1, count + 1):
            p = f"{kind}{n}"
            person_id = (data.get(f"{p}_person") or "").strip()
            if not person_id and not (data.get(f"{p}_first") or data.get(f"{p}_last")):
                continue
            role = (
                ReportPerson.Role.ALLEGED_VICTIM
                if kind == "child"
                else data.get(f"{p}_role") or "other_adult"
            )
            people.append(
                services.PersonEntry(
                    role=role,
                    ref=p,
                    person_id=person_id or None,
                    confirmed_new=bool(data.get(f"{p}_new")),
                    values=None
                    if person_id
                    else {
                        "first_name": data.get(f"{p}_first", ""),
                        "last_name": data.get(f"{p}_last", ""),
                        "date_of_birth": data.get(f"{p}_dob"),
                        "sex": data.get(f"{p}_sex") or "9",
                    },
                )
            )
            slots.append(p)
    allegations: list[dict[str, Any]] = []
    alleg_slots: list[str] = []
    for n in range(1, ALLEGATION_SLOTS + 1):
        p = f"alleg{n}"
        if not data.get(f"{p}_child") and not data.get(f"{p}_type"):
            continue
        allegations.append(
            {
                "child": data.get(f"{p}_child"),
                "perpetrator": data.get(f"{p}_perp") or None,
                "perpetrator_relationship": data.get(f"{p}_rel") or "other",
                "maltreatment_type": data.get(f"{p}_type"),
                "incident_date": data.get(f"{p}_date"),
                "incident_date_approximate": data.get(f"{p}_approx", False),
            }
        )
        alleg_slots.append(p)
    return people, slots, allegations, alleg_slots


def _show_errors(
    form: IntakeForm, error: ApplicationError, slots: list[str], alleg_slots: list[str]
) -> dict[str, Any]:
    field_map = {
        "channel": "channel",
        "received_at": "received_at",
        "org_unit": "org_unit",
        "reporter.source": "reporter_source",
        "narrative": "narrative",
    }
    duplicates: dict[str, Any] = {}
    for key, msgs in error.fields.items():
        target: str | None = field_map.get(key)
        if m := _PEOPLE_ERROR.match(key):
            slot = slots[int(m.group(1))] if int(m.group(1)) < len(slots) else None
            target = (
                f"{slot}_{'new' if m.group(2) == 'confirmed_new' else 'last'}" if slot else None
            )
        elif m := _ALLEG_ERROR.match(key):
            slot = alleg_slots[int(m.group(1))] if int(m.group(1)) < len(alleg_slots) else None
            name = {
                "child": "child",
                "perpetrator": "perp",
                "maltreatment_type": "type",
                "incident_date": "date",
                "perpetrator_relationship": "rel",
            }.get(m.group(2))
            target = f"{slot}_{name}" if slot and name else None
        for msg in msgs:
            form.add_error(target if target in form.fields else None, msg)
    for key, found in (error.extra.get("candidates") or {}).items():
        if m := _PEOPLE_ERROR.match(key):
            duplicates[slots[int(m.group(1))]] = found
    return duplicates


@login_required
def intake_new(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "report.create"):
        return _denied(request, "Only hotline staff take reports.")
    key = request.GET.get("draft", "")
    if not _DRAFT_KEY.match(key):
        return redirect(f"{request.path}?draft={uuid.uuid4().hex}")
    filed = selectors.report_filed_from_draft(user=user, key=key)
    if filed is not None:
        # A second click, a re-POST after "back", or a reload: never a second report.
        messages.info(request, f"This call was already filed as report {filed.number}.")
        return redirect("intake:report", report_id=filed.pk)
    offices = _offices(user)
    duplicates: dict[str, Any] = {}
    if request.method == "POST":
        form = IntakeForm(request.POST, offices=offices)
        if form.is_valid():
            people, slots, allegations, alleg_slots = _entries(form)
            data = form.cleaned_data
            try:
                report = services.report_file(
                    user=user,
                    org_unit=(
                        OrgUnit.objects.get(code=data["org_unit"]) if data["org_unit"] else None
                    ),
                    received_at=data["received_at"],
                    channel=data["channel"],
                    narrative=data["narrative"],
                    location=data["location"],
                    reporter={
                        "source": data["reporter_source"],
                        "anonymous": data["reporter_anonymous"],
                        "name": data["reporter_name"],
                        "phone": data["reporter_phone"],
                    },
                    people=people,
                    allegations=allegations,
                    worker_safety={
                        "dangerous_animals": data["safety_animals"],
                        "weapons": data["safety_weapons"],
                        "threats": data["safety_threats"],
                        "notes": data["safety_notes"],
                    },
                    draft_key=key,
                    linked_to=data.get("linked_to"),
                    household_id=data.get("household"),
                )
            except ApplicationError as error:
                duplicates = _show_errors(form, error, slots, alleg_slots)
            else:
                messages.success(
                    request, f"Report {report.number} filed. Screen it now or from the queue."
                )
                return redirect("intake:report", report_id=report.pk)
    else:
        draft = selectors.draft_get(user=user, key=key)
        form = IntakeForm(initial=draft.data if draft else None, offices=offices)
    drafts = [
        d for d in selectors.draft_list(user=user) if d.key != key and _DRAFT_KEY.match(d.key)
    ]
    return render(
        request,
        "intake/new.html",
        {"form": form, "draft_key": key, "duplicates": duplicates, "drafts": drafts},
    )


@login_required
@require_POST
def intake_draft(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    key = request.POST.get("draft", "")
    if not access.has_permission(user, "report.create") or not _DRAFT_KEY.match(key):
        return HttpResponse(status=400)
    data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and len(v) <= 20000}
    services.draft_save(user=user, key=key, data=data)
    return HttpResponse(f'<span class="muted">Draft saved {timezone.localtime():%H:%M:%S}</span>')


@login_required
@require_POST
def intake_match(request: HttpRequest) -> HttpResponse:
    """Registry matches for one person slot, as the worker types (search before create)."""
    user = actor(request)
    slot = request.GET.get("slot", "")
    if not re.match(r"^(child|adult)[1-4]$", slot) or not access.has_permission(
        user, "person.search"
    ):
        return HttpResponse(status=400)
    # POST, not GET: names and dates of birth must not appear in URLs (and so in logs).
    first = request.POST.get(f"{slot}_first", "")[:100]
    last = request.POST.get(f"{slot}_last", "")[:100]
    dob_text = request.POST.get(f"{slot}_dob", "")
    try:
        dob = datetime.strptime(dob_text, "%Y-%m-%d").date() if dob_text else None  # noqa: DTZ007
    except ValueError:
        dob = None
    results = []
    if len(last) >= 2 or (first and dob):
        results = people_selectors.person_search(
            user=user,
            query=people_selectors.SearchQuery(first_name=first, last_name=last, date_of_birth=dob),
            limit=5,
        )
    return render(
        request,
        "intake/_matches.html",
        {"slot": slot, "results": results, "chosen": request.POST.get(f"{slot}_person", "")},
    )


@login_required
@require_GET
def intake_history(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    ids = []
    for name, value in request.GET.items():
        if name.endswith("_person") and value:
            try:
                ids.append(uuid.UUID(str(value)))
            except ValueError:
                continue
    try:
        household = uuid.UUID(request.GET.get("household", ""))
    except ValueError:
        household = None
    history = selectors.prior_history(user=user, person_ids=ids) if ids else []
    households = selectors.households_of(user=user, person_ids=ids) if ids else []
    if household is None and len(households) == 1:
        household = households[0].pk
    related = (
        selectors.related_reports(user=user, person_ids=ids, household_id=household)
        if ids or household
        else []
    )
    return render(
        request,
        "intake/_history.html",
        {
            "history": history,
            "related": clock_rows(related),
            "households": households,
            "household": str(household or ""),
        },
    )


# --- Queues and lists -----------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not (
        access.has_permission(user, "report.approve")
        or access.has_permission(user, "report.assign")
    ):
        return _denied(request, "The live queue is for supervisors.")
    q = selectors.supervisor_queue(user=user)
    context = {
        "awaiting": clock_rows(q.awaiting_approval),
        "unassigned": clock_rows(q.unassigned),
        "due": clock_rows(q.due),
        "now": timezone.localtime(),
    }
    template = "intake/_queue.html" if request.headers.get("HX-Request") else "intake/queue.html"
    return render(request, template, context)


@login_required
def report_list_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not access.has_permission(user, "report.view"):
        return _denied(request, "Your role does not include hotline reports.")
    office = request.GET.get("office", "")
    office = office if re.match(r"^[A-Za-z0-9_-]{0,32}$", office) else ""
    rows = selectors.report_list(user=user, office=office, open_only=True)[:200]
    return render(
        request,
        "intake/list.html",
        {
            "rows": clock_rows(list(rows)),
            "office": office,
            "offices": _offices(user)
            or [(u.code, u.name) for u in OrgUnit.objects.filter(kind="office")],
        },
    )


# --- One report -----------------------------------------------------------------------------


def _workers(report: Report) -> list[User]:
    """Active users who may respond to reports in this office (the query does the work)."""
    roles = [
        code for code, spec in get_policy().roles.items() if "report.respond" in spec.permissions
    ]
    codes = report.org_unit.path.strip("/").split("/")
    covering = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=roles,
            role_assignments__org_unit__path__in=covering,
        )
        .distinct()
        .order_by("username")
    )


@login_required
def report_page(request: HttpRequest, report_id: str) -> HttpResponse:
    user = actor(request)
    try:
        report = selectors.report_get(user=user, report_id=report_id)
    except AccessDenied:
        return render(request, "web/404.html", status=404)
    perms = access.permissions(user)
    policy = intake_policy()
    children = [p for p in report.participants.all() if p.role in {"alleged_victim", "other_child"}]
    context: dict[str, Any] = {
        "report": report,
        "clock": clock(report),
        "policy": policy,
        "show_reporter": selectors.can_see_reporter(user, report),
        "channel": policy.label("channels", report.channel),
        "allegations": [
            {
                "a": a,
                "type": policy.label("maltreatment_types", a.maltreatment_type),
                "rel": policy.label("perpetrator_relationships", a.perpetrator_relationship),
            }
            for a in report.allegations.all()
        ],
        "track_label": policy.label("tracks", report.track) if report.track else "",
        "priority_label": policy.priorities[report.priority].label if report.priority else "",
        "reason_label": policy.label("screen_out_reasons", report.screening_reason)
        if report.screening_reason
        else "",
        "reporter_source": policy.label("reporter_sources", report.reporter.source)
        if hasattr(report, "reporter")
        else "",
        "waiting": selectors.children_waiting(report),
        "child_clocks": selectors.child_clocks(report),
        "changes": selectors.report_changes(report=report),
        "can_screen": "report.screen" in perms and report.status == "submitted",
        "can_approve": "report.approve" in perms
        and report.status in {"screened_in", "screened_out"}
        and report.screened_by_id != user.pk,
        "can_assign": "report.assign" in perms
        and report.status in {"approved", "assigned"}
        and bool(report.track),
        "can_contact": access.can_access(user, report, "case.manage").allowed
        and report.status in {"assigned", "responded"},
        "can_close": report.status == "responded"
        and (
            (report.assigned_to_id == user.pk and "case.manage" in perms)
            or access.can_access(user, report, "report.assign").allowed
        ),
    }
    if context["can_screen"]:
        context["screen_form"] = ScreenForm()
        context["preview"] = _preview(report, {})
    if context["can_approve"]:
        context["note_form"] = NoteForm()
    if context["can_assign"]:
        form = AssignForm(initial={"version": report.version})
        form.fields["assignee"].choices = [(u.username, str(u)) for u in _workers(report)]  # type: ignore[attr-defined]
        context["assign_form"] = form
    if context["can_contact"]:
        form = ContactForm(initial={"contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})  # type: ignore[assignment]
        form.fields["child"].choices = [(str(p.person_id), p.person.full_name) for p in children]  # type: ignore[attr-defined]
        form.fields["made_by"].choices = [("", "Me")] + [  # type: ignore[attr-defined]
            (u.username, str(u)) for u in _workers(report) if u.pk != user.pk
        ]
        context["contact_form"] = form
    return render(request, "intake/report.html", context)


def _preview(report: Report, flags: Any) -> dict[str, Any]:
    """Which rule would fire for this report with these screening facts, and why."""
    facts = dataclasses.replace(
        services.report_facts(report),
        serious_injury=bool(flags.get("serious_injury")),
        safety_threat=bool(flags.get("safety_threat")),
        low_risk=bool(flags.get("low_risk")),
    )
    policy = intake_policy()
    decision = policy.decide(facts)
    return {
        "decision": decision,
        "track": policy.label("tracks", decision.track),
        "priority": policy.priorities[decision.priority].label,
    }


@login_required
@require_GET
def report_screen_preview(request: HttpRequest, report_id: str) -> HttpResponse:
    """The rule preview, refreshed as the worker ticks the screening facts (htmx)."""
    user = actor(request)
    if not access.has_permission(user, "report.screen"):
        return HttpResponse(status=403)
    try:
        report = selectors.report_get(user=user, report_id=report_id)
    except AccessDenied:
        return render(request, "web/404.html", status=404)
    return render(request, "intake/_preview.html", {"preview": _preview(report, request.GET)})


def _back(
    request: HttpRequest, report_id: str, error: ApplicationError | None = None, ok: str = ""
) -> HttpResponse:
    if error is not None:
        detail = "; ".join(f"{k.replace('_', ' ')}: {' '.join(v)}" for k, v in error.fields.items())
        messages.error(request, f"{error.message} {detail}".strip())
    elif ok:
        messages.success(request, ok)
    return redirect("intake:report", report_id=report_id)


def _act(request: HttpRequest, report_id: str, call: Callable[[], object], ok: str) -> HttpResponse:
    """Run one lifecycle action; its refusal comes back as a message on the report page."""
    try:
        call()
    except AccessDenied:
        return render(request, "web/404.html", status=404)
    except Conflict as error:
        messages.error(request, error.message + " Nothing was changed; check the report below.")
        return redirect("intake:report", report_id=report_id)
    except ApplicationError as error:
        return _back(request, report_id, error)
    return _back(request, report_id, ok=ok)


def _invalid(request: HttpRequest, report_id: str, message: str, form: Any) -> HttpResponse:
    fields = {k: [str(m) for m in v] for k, v in form.errors.items()}
    return _back(request, report_id, ApplicationError(message, fields=fields))


@login_required
@require_POST
def report_screen(request: HttpRequest, report_id: str) -> HttpResponse:
    form = ScreenForm(request.POST)
    if not form.is_valid():
        return _invalid(request, report_id, "The screening decision is incomplete.", form)
    d = form.cleaned_data
    return _act(
        request,
        report_id,
        lambda: services.report_screen(
            user=actor(request),
            report_id=report_id,
            screen_in=d["decision"] == "in",
            narrative=d["narrative"],
            reason=d["reason"],
            serious_injury=d["serious_injury"],
            safety_threat=d["safety_threat"],
            low_risk=d["low_risk"],
            track=d["track"],
            priority=d["priority"],
            override_reason=d["override_reason"],
            information_referral=d["information_referral"],
        ),
        "Screening decision recorded; it now waits for approval.",
    )


@login_required
@require_POST
def report_approve(request: HttpRequest, report_id: str) -> HttpResponse:
    note = request.POST.get("note", "")[:2000]
    return _act(
        request,
        report_id,
        lambda: services.report_approve(user=actor(request), report_id=report_id, note=note),
        "Approved.",
    )


@login_required
@require_POST
def report_send_back(request: HttpRequest, report_id: str) -> HttpResponse:
    reason = request.POST.get("note", "")[:2000]
    return _act(
        request,
        report_id,
        lambda: services.report_send_back(user=actor(request), report_id=report_id, reason=reason),
        "Sent back for another look.",
    )


@login_required
@require_POST
def report_assign(request: HttpRequest, report_id: str) -> HttpResponse:
    user = actor(request)
    username = request.POST.get("assignee", "")
    valid = re.match(r"^[\w.@+-]{1,150}$", username)
    assignee = User.objects.filter(username=username).first() if valid else None
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    if assignee is None:
        return _back(
            request,
            report_id,
            ApplicationError("Choose a worker.", fields={"assignee": ["Required."]}),
        )
    return _act(
        request,
        report_id,
        lambda: services.report_assign(
            user=user, report_id=report_id, assignee=assignee, expected_version=version
        ),
        f"Assigned to {assignee}.",
    )


@login_required
@require_POST
def report_contact(request: HttpRequest, report_id: str) -> HttpResponse:
    form = ContactForm(request.POST)
    form.fields["child"].choices = [(request.POST.get("child", ""), "")]  # type: ignore[attr-defined]
    form.fields["made_by"].choices = [(request.POST.get("made_by", ""), "")]  # type: ignore[attr-defined]
    if not form.is_valid():
        return _invalid(request, report_id, "The contact could not be recorded.", form)
    d = form.cleaned_data
    made_by = None
    if d["made_by"]:
        made_by = User.objects.filter(username=d["made_by"][:150]).first()
        if made_by is None:
            return _back(
                request,
                report_id,
                ApplicationError("Choose a worker.", fields={"made_by": ["No such worker."]}),
            )
    return _act(
        request,
        report_id,
        lambda: services.report_record_contact(
            user=actor(request),
            report_id=report_id,
            child_id=d["child"],
            contact_at=d["contact_at"],
            location=d["location"],
            made_by=made_by,
        ),
        "Contact recorded.",
    )


@login_required
@require_POST
def report_close(request: HttpRequest, report_id: str) -> HttpResponse:
    summary = request.POST.get("summary", "")[:5000]
    return _act(
        request,
        report_id,
        lambda: services.report_close(user=actor(request), report_id=report_id, summary=summary),
        "Report closed.",
    )
