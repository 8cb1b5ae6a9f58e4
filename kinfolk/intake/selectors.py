"""Reads of the hotline, filtered by the access policy; reporter identity only for intake roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from kinfolk.core import access, audit
from kinfolk.core.models import AccessGrant, User
from kinfolk.intake import history
from kinfolk.intake.models import (
    Allegation,
    ChildContact,
    Report,
    ReportDraft,
    ReportEvent,
    ReportPerson,
)
from kinfolk.intake.policy import intake_policy
from kinfolk.people.models import Household, Person

OPEN_STATUSES = ("submitted", "screened_in", "screened_out", "approved", "assigned", "responded")


def can_see_reporter(user: User, report: Report) -> bool:
    """Reporter identity: intake roles, or an explicit grant on this report's reporter."""
    if access.is_intake(user):
        return True
    return AccessGrant.objects.filter(
        user=user, record_type="reporter", record_id=report.pk, revoked_at__isnull=True
    ).exists()


def _with_details(qs: QuerySet[Report]) -> QuerySet[Report]:
    return qs.select_related(
        "org_unit", "assigned_to", "screened_by", "approved_by", "reporter"
    ).prefetch_related(
        # One query per list, each joined to what it shows (not one more per relation).
        Prefetch("participants", queryset=ReportPerson.objects.select_related("person")),
        Prefetch("allegations", queryset=Allegation.objects.select_related("child", "perpetrator")),
        Prefetch(
            "contacts",
            queryset=ChildContact.objects.select_related("child", "made_by", "recorded_by"),
        ),
        Prefetch("events", queryset=ReportEvent.objects.select_related("by")),
    )


def report_list(
    *,
    user: User,
    status: str = "",
    office: str = "",
    due_before: datetime | None = None,
    assigned_to_me: bool = False,
    open_only: bool = False,
) -> QuerySet[Report]:
    qs = access.visible(user, "report.view", Report.objects.all()).select_related(
        "org_unit", "assigned_to"
    )
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if office:
        qs = qs.filter(org_unit__path__contains=f"/{office}/")
    if due_before:
        qs = qs.filter(response_due_at__lte=due_before)
    if assigned_to_me:
        qs = qs.filter(assigned_to=user)
    return qs.order_by("response_due_at", "-received_at")


def report_get(*, user: User, report_id: Any) -> Report:
    return access.access_record_by_id(
        user, Report, report_id, "report.view", queryset=_with_details(Report.objects.all())
    )


def report_filed(*, user: User, report: Report) -> Report:
    """The report ``services.report_file`` returned, ready to show: the same access check and
    view audit row as ``report_get``, without reading back the rows the service has just
    written and attached. A report it did not attach them to (a draft filed again returns
    the first filing) is read as ``report_get`` reads it."""
    if "events" not in getattr(report, "_prefetched_objects_cache", {}):
        return report_get(user=user, report_id=report.pk)
    return access.access_record(user, report, "report.view")


@dataclass
class Queue:
    awaiting_approval: list[Report] = field(default_factory=list)
    unassigned: list[Report] = field(default_factory=list)
    due: list[Report] = field(default_factory=list)


def supervisor_queue(*, user: User) -> Queue:
    """What a supervisor must act on now, soonest deadline first."""
    base = access.visible(user, "report.view", Report.objects.all()).select_related(
        "org_unit", "assigned_to"
    )
    queue = Queue()
    if access.has_permission(user, "report.approve"):
        queue.awaiting_approval = list(
            base.filter(status__in=["screened_in", "screened_out"]).order_by(
                "response_due_at", "received_at"
            )[:100]
        )
    if access.has_permission(user, "report.assign"):
        queue.unassigned = list(
            base.filter(status="approved").exclude(track="").order_by("response_due_at")[:100]
        )
        queue.due = list(
            base.filter(status="assigned", response_due_at__isnull=False).order_by(
                "response_due_at"
            )[:100]
        )
    return queue


@dataclass
class PriorHistory:
    person: Person
    reports: list[Report]
    hidden: int = 0  # prior reports outside the user's scope (the count only)
    # Open cases, current placements, ... from the apps registered in ``intake.history``.
    records: list[history.HistoryItem] = field(default_factory=list)
    hidden_records: int = 0  # such records outside the user's scope (the count only)


def prior_history(
    *, user: User, person_ids: list[Any], exclude_report: Any = None
) -> list[PriorHistory]:
    """Every prior report naming each person, and their open cases and placements (from the
    registered history providers), as far as the user may see (hotline: statewide)."""
    people = list(access.visible(user, "person.view", Person.objects.filter(pk__in=person_ids)))
    provided = history.collect(user, [p.pk for p in people])
    visible_reports = access.visible(user, "report.view", Report.objects.all())
    out: list[PriorHistory] = []
    for person in people:
        named = Report.objects.filter(participants__person=person).distinct()
        if exclude_report:
            named = named.exclude(pk=exclude_report)
        seen = list(
            visible_reports.filter(pk__in=named.values("pk"))
            .select_related("org_unit")
            .prefetch_related("allegations")
            .order_by("-received_at")[:20]
        )
        more = provided.get(person.pk, history.ProvidedHistory())
        out.append(
            PriorHistory(person, seen, max(0, named.count() - len(seen)), more.items, more.hidden)
        )
    shown: dict[str, list[str]] = {}
    for h in out:
        for item in h.records:
            shown.setdefault(item.record_type, []).append(item.record_id)
    audit.record(
        user=user,
        action="view",
        record_type="prior_history",
        detail={"people": [str(p.person.pk) for p in out], "records": shown},
    )
    return out


def related_reports(*, user: User, person_ids: list[Any], household_id: Any = None) -> list[Report]:
    """Open reports about the same child or household within the policy's window."""
    since = timezone.now() - timedelta(days=intake_policy().related_window_days)
    match = Q(
        participants__person__in=person_ids,
        participants__role__in=[ReportPerson.Role.ALLEGED_VICTIM, ReportPerson.Role.OTHER_CHILD],
    )
    if household_id:
        match |= Q(household_id=household_id)
    qs = access.visible(user, "report.view", Report.objects.filter(match, received_at__gte=since))
    return list(qs.filter(status__in=OPEN_STATUSES).distinct().order_by("-received_at")[:20])


def households_of(*, user: User, person_ids: list[Any]) -> list[Household]:
    """Current households of the named people that the user may see (to pick the report's)."""
    qs = Household.objects.filter(
        members__person__in=person_ids, members__left__isnull=True
    ).distinct()
    return list(
        access.visible(user, "person.view", qs).select_related("org_unit").order_by("label")[:10]
    )


# Fields a change-history row may name; the reporter lives in its own table and never appears.
_HISTORY_HIDDEN = {"version", "updated_at", "updated_by", "created_at", "created_by", "filing_key"}


def report_changes(*, report: Report, limit: int = 50) -> list[dict[str, Any]]:
    """The report's recorded versions, newest first: when, by whom, which fields changed.

    Field names only, never values: a history row is shown to every role that may open the
    report, and the values are on the page where the user's access allows them.
    """
    rows = list(report.history.select_related("history_user").order_by("-history_id")[: limit + 1])
    out: list[dict[str, Any]] = []
    for newer, older in zip(rows, rows[1:] + [None], strict=False):
        if len(out) == limit:
            break
        if older is None:
            changed = ["created"]
        else:
            delta = newer.diff_against(older)
            changed = sorted(c.field for c in delta.changes if c.field not in _HISTORY_HIDDEN)
        if not changed:
            continue
        out.append(
            {
                "at": newer.history_date,
                "by": str(newer.history_user) if newer.history_user else "system",
                "fields": [c.replace("_", " ") for c in changed],
            }
        )
    return out


def draft_get(*, user: User, key: str) -> ReportDraft | None:
    return ReportDraft.objects.filter(user=user, key=key).first()


def draft_list(*, user: User, limit: int = 20) -> list[ReportDraft]:
    """The user's own unfinished drafts, latest first (nobody else's, whatever their role)."""
    return list(ReportDraft.objects.filter(user=user).order_by("-updated_at")[:limit])


def report_filed_from_draft(*, user: User, key: str) -> Report | None:
    """The report this user already filed from this intake form, if any."""
    if not key:
        return None
    return Report.objects.filter(created_by=user, filing_key=key).first()


def time_left(report: Report, now: datetime | None = None) -> timedelta | None:
    if report.response_due_at is None:
        return None
    return report.response_due_at - (now or timezone.now())


def child_clocks(report: Report, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each child in the report with their first contact and whether it was on time."""
    now = now or timezone.now()
    first: dict[Any, Any] = {}
    for c in sorted(report.contacts.all(), key=lambda c: c.contact_at):
        first.setdefault(c.child_id, c)
    due = report.response_due_at
    out = []
    for p in report.participants.all():
        if p.role not in {ReportPerson.Role.ALLEGED_VICTIM, ReportPerson.Role.OTHER_CHILD}:
            continue
        contact = first.get(p.person_id)
        if contact is not None:
            state = "on time" if due is None or contact.contact_at <= due else "late"
        elif due is not None and now > due:
            state = "overdue"
        else:
            state = "waiting"
        out.append({"person": p.person, "contact": contact, "state": state})
    return out


def children_waiting(report: Report) -> list[Person]:
    seen = {c.child_id for c in report.contacts.all()}
    return [
        p.person
        for p in report.participants.all()
        if p.role == ReportPerson.Role.ALLEGED_VICTIM and p.person_id not in seen
    ]
