"""Cases and their members: the family the agency serves after a report, at home or in care."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kinfolk.core.models import BaseModel, ScopedRecord, User
from kinfolk.people.models import Person


class Status(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


# The lifecycle as data: a move not listed here raises (see services._move).
TRANSITIONS: dict[str, dict[str, str]] = {
    "open": {"": "open"},
    "close": {"open": "closed"},
}


class Case(ScopedRecord):
    """One case (org unit: the office that runs it). ``kind`` is a code of ``cases.kinds``."""

    RECORD_TYPE: ClassVar[str] = "case"

    number = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    close_reason = models.CharField(max_length=32, blank=True)
    primary_worker = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="primary_cases"
    )
    source_report = models.ForeignKey(
        "intake.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_on", "number"]
        indexes = [models.Index(fields=["status", "opened_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="case_closed_after_opened",
            ),
            # Closed exactly when it has a closing date and a reason.
            models.CheckConstraint(
                condition=(
                    Q(status="open", closed_on__isnull=True, close_reason="")
                    | (Q(status="closed", closed_on__isnull=False) & ~Q(close_reason=""))
                ),
                name="case_closed_has_date_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_kind_label(self) -> str:
        from kinfolk.cases.policy import case_policy

        return case_policy().kinds.get(self.kind, self.kind)

    def get_close_reason_label(self) -> str:
        from kinfolk.cases.policy import case_policy

        return case_policy().close_reasons.get(self.close_reason, self.close_reason)


class MemberRole(models.TextChoices):
    CHILD = "child", "Child"
    CAREGIVER = "caregiver", "Parent or caregiver"
    OTHER = "other", "Other member"


class CaseMember(BaseModel):
    """A person in a case, from ``start_date`` until ``end_date`` (open: still a member)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="case_memberships")
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "person"],
                condition=Q(end_date__isnull=True),
                name="case_member_once_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="case_member_ends_after_start",
            ),
        ]


class CaseEvent(models.Model):
    """Every move of a case's lifecycle: who, when, from, to, why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    move = models.CharField(max_length=16)
    from_status = models.CharField(max_length=8, blank=True)
    to_status = models.CharField(max_length=8)
    by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
