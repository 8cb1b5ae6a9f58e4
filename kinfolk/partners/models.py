"""Partner organisations (HSDS ``organization``) and who works for them.

The directory, services and closed-loop referrals arrive with the partners issue; the
membership lives here now so partner staff can be users from the start.
"""

from __future__ import annotations

import uuid

from django.db import models

from kinfolk.core.models import User


class PartnerOrganization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)

    def __str__(self) -> str:
        return self.name


class PartnerMembership(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="partner_membership")
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="members"
    )
