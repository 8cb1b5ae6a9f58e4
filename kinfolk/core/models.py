"""The shared kernel: base model, org units, users and roles, assignments, grants, audit."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from kinfolk.core.errors import ValidationFailed


class BaseModel(models.Model):
    """UUID key, a version for optimistic locking, and who/when for creation and change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True


class ScopedRecord(BaseModel):
    """A record the access policy guards: it lies in an org unit and may be restricted.

    ``RECORD_TYPE`` names the record in audit rows, assignments and grants.
    """

    RECORD_TYPE: ClassVar[str] = ""

    org_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    restricted = models.BooleanField(
        default=False,
        help_text="Involves e.g. an agency employee: only users with an explicit grant see it.",
    )

    class Meta:
        abstract = True


class OrgUnit(models.Model):
    """A node of the agency's tree: State → Region → Circuit → County → Office.

    ``path`` is the materialised chain of codes from the root (``/MO/R1/C21/``), so
    "lies inside this scope" is a prefix test the database can index.
    """

    class Kind(models.TextChoices):
        STATE = "state", "State"
        REGION = "region", "Region"
        CIRCUIT = "circuit", "Circuit"
        COUNTY = "county", "County"
        OFFICE = "office", "Office"

    KIND_ORDER: ClassVar[list[str]] = ["state", "region", "circuit", "county", "office"]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=400, unique=True, editable=False)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        """Store the path; a changed code or parent re-roots every descendant in the same
        transaction, so scopes ("lies inside") follow the move at once."""
        with transaction.atomic():
            problems = {} if self._state.adding else self._placement_problem()
            if problems:
                raise ValidationFailed(
                    "The unit cannot move there.", fields={k: [v] for k, v in problems.items()}
                )
            old_path = (
                None
                if self._state.adding
                else OrgUnit.objects.filter(pk=self.pk).values_list("path", flat=True).first()
            )
            # The parent's stored path, not a possibly stale copy held in memory.
            parent_path = "/"
            if self.parent is not None:
                stored = OrgUnit.objects.filter(pk=self.parent.pk).values_list("path", flat=True)
                parent_path = stored.first() or self.parent.path
            self.path = f"{parent_path}{self.code}/"
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "path"}
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(self.path), Substr("path", len(old_path) + 1))
                )

    def _placement_problem(self) -> dict[str, str]:
        """Why this unit cannot sit where it is (under ``parent``), read from stored paths."""
        if self.parent_id is None:
            return {}
        parent_path = OrgUnit.objects.filter(pk=self.parent_id).values_list("path", flat=True)
        own_path = OrgUnit.objects.filter(pk=self.pk).values_list("path", flat=True)
        stored_parent, stored_own = parent_path.first(), own_path.first()
        if self.parent_id == self.pk or (
            stored_own and stored_parent and stored_parent.startswith(stored_own)
        ):
            return {"parent": "A unit cannot sit inside itself or one of its own sub-units."}
        return {}

    def clean(self) -> None:
        problems = self._placement_problem()
        order = self.KIND_ORDER
        if self.parent is not None and self.kind in order and self.parent.kind in order:
            if order.index(self.kind) <= order.index(self.parent.kind):
                problems.setdefault("parent", "A unit must sit below its parent's kind.")
        if problems:
            raise ValidationError(problems)

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)

    def ancestor_of_kind(self, kind: str) -> OrgUnit | None:
        unit: OrgUnit | None = self
        while unit is not None and unit.kind != kind:
            unit = unit.parent
        return unit


class User(AbstractUser):
    """A person who uses Kinfolk. What they may do comes from their role assignments."""

    display_name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.Model):
    """A role and the actions it allows, loaded from policy (``policy/default.yaml``)."""

    code = models.CharField(max_length=64, primary_key=True)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list)
    intake = models.BooleanField(
        default=False, help_text="An intake (hotline) role: may see reporter identity."
    )

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class RoleAssignment(models.Model):
    """User × role × org unit: the role's actions, over records inside that unit.

    Partner staff have no org unit: their scope is their partner organisation's referrals.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="role_assignments"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"], name="unique_role_assignment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.org_unit or 'no unit'}"


class Supervision(models.Model):
    supervisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisees_set")
    supervisee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisors_set")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supervisor", "supervisee"], name="unique_supervision"),
            models.CheckConstraint(
                condition=~models.Q(supervisor=models.F("supervisee")),
                name="supervision_not_self",
            ),
        ]


class Assignment(models.Model):
    """A user assigned to a record (a worker on a case, an investigator on a report)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    record_type = models.CharField(max_length=32)
    record_id = models.UUIDField()
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id"])]


class AccessGrant(models.Model):
    """An explicit grant on one restricted record (who granted it and why)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_grants")
    record_type = models.CharField(max_length=32)
    record_id = models.UUIDField()
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id"])]


class BreakGlass(models.Model):
    """Emergency access to one record outside the user's scope: reasoned, time-limited, flagged."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass")
    record_type = models.CharField(max_length=32)
    record_id = models.UUIDField()
    reason = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "record_type", "record_id"])]
        verbose_name_plural = "break-glass accesses"


class AuditEvent(models.Model):
    """One append-only audit row. Each row's hash covers its content and the previous hash."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        DENIED = "denied", "Denied"
        BREAK_GLASS = "break_glass", "Break-glass opened"
        GRANT = "grant", "Access granted"
        LOGIN = "login", "Logged in"
        LOGOUT = "logout", "Logged out"
        LOGIN_FAILED = "login_failed", "Login failed"
        EXPORT = "export", "Exported"

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    record_type = models.CharField(max_length=32, blank=True)
    record_id = models.CharField(max_length=64, blank=True, db_index=True)
    fields = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    break_glass = models.BooleanField(default=False)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["record_type", "record_id", "at"])]


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed on retry."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idem_key")]
