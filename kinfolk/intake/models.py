"""Hotline reports, the people and allegations in them, screening, assignment and contacts."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kinfolk.core.models import BaseModel, ScopedRecord, User
from kinfolk.people.models import Person


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SCREENED_IN = "screened_in", "Screened in (awaiting approval)"
    SCREENED_OUT = "screened_out", "Screened out (awaiting approval)"
    APPROVED = "approved", "Approved"
    ASSIGNED = "assigned", "Assigned"
    RESPONDED = "responded", "Responded"
    CLOSED = "closed", "Closed"
    ADDED = "added", "Added to an open report"


# The lifecycle as data: a move not listed here raises (see services.report_move).
TRANSITIONS: dict[str, dict[str, str]] = {
    "file": {"draft": "submitted"},
    "screen_in": {"submitted": "screened_in"},
    "screen_out": {"submitted": "screened_out"},
    "approve": {"screened_in": "approved", "screened_out": "closed"},
    "send_back": {"screened_in": "submitted", "screened_out": "submitted"},
    "assign": {"approved": "assigned", "assigned": "assigned"},
    "respond": {"assigned": "responded"},
    "close": {"responded": "closed", "approved": "closed"},
    # A call about a family whose report is being responded to joins that response.
    "add_to": {"submitted": "added"},
}

# An open response takes additional reports: screened in and not yet closed.
TAKES_ADDITIONAL = frozenset({"screened_in", "approved", "assigned", "responded"})

MOVE_LABELS = {
    "file": "filed",
    "screen_in": "screened in",
    "screen_out": "screened out",
    "approve": "approved",
    "send_back": "sent back",
    "assign": "assigned",
    "respond": "responded",
    "close": "closed",
    "add_to": "added to an open report",
}


class Report(ScopedRecord):
    """One call or submission about one or more children (org unit: the responsible office)."""

    RECORD_TYPE: ClassVar[str] = "report"

    @property
    def takes_additional(self) -> bool:
        """Whether a later call about the family can be added to this report's response."""
        return self.status in TAKES_ADDITIONAL

    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=20)
    narrative = models.TextField(max_length=20000)
    location = models.CharField(max_length=300, blank=True)
    household = models.ForeignKey(
        "people.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    worker_safety = models.JSONField(default=dict, blank=True)
    serious_injury = models.BooleanField(default=False)
    safety_threat = models.BooleanField(default=False)
    low_risk = models.BooleanField(default=False)
    # Screening
    screening_reason = models.CharField(max_length=40, blank=True)
    screening_narrative = models.TextField(max_length=5000, blank=True)
    screened_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField(null=True, blank=True)
    track = models.CharField(max_length=32, blank=True)
    priority = models.CharField(max_length=8, blank=True)
    rule = models.CharField(max_length=64, blank=True)
    rule_why = models.TextField(blank=True)
    override_reason = models.TextField(blank=True)
    information_referral = models.TextField(blank=True, max_length=2000)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_back_reason = models.TextField(blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    assigned_to = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_reports"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    linked_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="additional_reports"
    )
    closing_summary = models.TextField(blank=True, max_length=5000)
    # The intake form's draft key: the same form submitted twice files one report.
    filing_key = models.CharField(max_length=64, blank=True, default="")

    history = HistoricalRecords(excluded_fields=["narrative"])

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "response_due_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "filing_key"],
                condition=~models.Q(filing_key=""),
                name="unique_report_filing_key",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def screened_in(self) -> bool:
        return bool(self.track)

    def get_track_label(self) -> str:
        from kinfolk.intake.policy import intake_policy

        return intake_policy().label("tracks", self.track) if self.track else ""


class Reporter(BaseModel):
    """Who made the report. Confidential: only intake roles (or a grant) ever see it."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="reporter")
    source = models.CharField(max_length=4)  # NCANDS RptSrc
    anonymous = models.BooleanField(default=False)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    organisation = models.CharField(max_length=200, blank=True)


class ReportPerson(models.Model):
    class Role(models.TextChoices):
        ALLEGED_VICTIM = "alleged_victim", "Alleged victim"
        OTHER_CHILD = "other_child", "Other child in the home"
        ALLEGED_PERPETRATOR = "alleged_perpetrator", "Alleged perpetrator"
        CAREGIVER = "caregiver", "Parent or caregiver"
        OTHER_ADULT = "other_adult", "Other adult"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="report_roles")
    role = models.CharField(max_length=24, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "person", "role"], name="unique_report_person_role"
            )
        ]


class Finding(models.TextChoices):
    """NCANDS maltreatment disposition level (MalLev)."""

    SUBSTANTIATED = "1", "Substantiated"
    INDICATED = "2", "Indicated or reason to suspect"
    AR_VICTIM = "3", "Alternative response victim"
    AR_NONVICTIM = "4", "Alternative response nonvictim"
    UNSUBSTANTIATED = "5", "Unsubstantiated"
    FALSE_REPORT = "6", "Unsubstantiated, intentionally false"
    NO_FINDING = "7", "Closed, no finding"
    OTHER = "9", "Other"
    UNKNOWN = "99", "Unknown"


class Allegation(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="allegations")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="allegations_as_child")
    perpetrator = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allegations_as_perpetrator",
    )
    perpetrator_relationship = models.CharField(max_length=32, default="other")
    maltreatment_type = models.CharField(max_length=2)  # NCANDS ChMal
    incident_date = models.DateField(null=True, blank=True)
    incident_date_approximate = models.BooleanField(default=False)
    finding = models.CharField(max_length=2, blank=True, choices=Finding.choices)


class ChildContact(models.Model):
    """The first face-to-face contact with a child stops that child's response clock."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="contacts")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    contact_at = models.DateTimeField()
    location = models.CharField(max_length=200)
    # Who met the child, when someone else (e.g. a supervisor) types it in afterwards.
    made_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)


class ReportEvent(models.Model):
    """Every move of a report's lifecycle: who, when, from, to, why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    move = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    @property
    def move_label(self) -> str:
        return MOVE_LABELS.get(self.move, self.move.replace("_", " "))


class ReportDraft(models.Model):
    """What a hotline worker has typed so far, saved as they type: a dropped call loses nothing."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="report_drafts")
    key = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_draft_key")]


class CommunityHandoff(models.Model):
    """A screened-in, low-risk family handed to community partners (the referral itself is
    made in the partners module, which picks these up)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a partner referral"
        REFERRED = "referred", "Referred to a partner"
        DECLINED = "declined", "Family declined"

    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="handoff")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
