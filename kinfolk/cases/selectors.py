"""Reads of cases, filtered by the access policy in the query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from kinfolk.cases.models import Case, CaseEvent, CaseMember
from kinfolk.core import access
from kinfolk.core.models import User
from kinfolk.intake.history import HistoryItem, ProvidedHistory


def case_list(*, user: User, open_only: bool = False) -> QuerySet[Case]:
    qs = access.visible(user, "case.view", Case.objects.all()).select_related("org_unit")
    if open_only:
        qs = qs.filter(status="open")
    return qs.order_by("-opened_on", "number")


def case_get(*, user: User, case_id: Any) -> Case:
    """One case with its members and events; the view (or the refusal) is audited."""
    qs = Case.objects.select_related("primary_worker", "source_report").prefetch_related(
        Prefetch("members", queryset=CaseMember.objects.select_related("person")),
        Prefetch("events", queryset=CaseEvent.objects.select_related("by")),
    )
    return access.access_record_by_id(user, Case, case_id, "case.view", queryset=qs)


def open_cases_of(*, user: User, person_ids: Sequence[Any]) -> dict[Any, list[Case]]:
    """Each person's open cases in which they are a current member, as far as the user sees."""
    members = (
        CaseMember.objects.filter(
            person_id__in=list(person_ids), end_date__isnull=True, case__status="open"
        )
        .filter(case__in=access.visible(user, "case.view", Case.objects.all()))
        .select_related("case", "case__org_unit")
        .order_by("-case__opened_on")
    )
    out: dict[Any, list[Case]] = {}
    for member in members:
        out.setdefault(member.person_id, []).append(member.case)
    return out


def open_case_history(user: User, person_ids: Sequence[Any]) -> dict[Any, ProvidedHistory]:
    """The prior-history panel's open cases (a provider for ``intake.history``)."""
    seen = open_cases_of(user=user, person_ids=person_ids)
    counts: dict[Any, int] = {}
    for person_id in CaseMember.objects.filter(
        person_id__in=list(person_ids), end_date__isnull=True, case__status="open"
    ).values_list("person_id", flat=True):
        counts[person_id] = counts.get(person_id, 0) + 1
    out: dict[Any, ProvidedHistory] = {}
    for person_id, total in counts.items():
        cases = seen.get(person_id, [])
        out[person_id] = ProvidedHistory(
            items=[
                HistoryItem(
                    record_type=Case.RECORD_TYPE,
                    record_id=str(case.pk),
                    label=f"Open case {case.number} · {case.get_kind_label()}",
                    office=case.org_unit.name,
                    since=case.opened_on,
                )
                for case in cases
            ],
            hidden=max(0, total - len(cases)),
        )
    return out
