"""Resource homes, removal episodes and the placements inside them (codes follow AFCARS).

The invariants hold in three places: the services check them and answer with field errors; the
database refuses what a constraint can express on every backend (a discharge before its removal,
a second open episode or current placement, an end before a start); and on PostgreSQL exclusion
constraints refuse overlapping episodes of one child and overlapping placements of one episode
(migration 0002).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kinfolk.core.models import BaseModel, ScopedRecord, User
from kinfolk.people.models import Person


class Setting(models.TextChoices):
    """AFCARS CURPLSET (FEDERAL_TABLES.md ``placements.setting``)."""

    PRE_ADOPTIVE = "1", "Pre-adoptive home"
    RELATIVE_FOSTER = "2", "Foster family home (relative)"
    NONRELATIVE_FOSTER = "3", "Foster family home (non-relative)"
    GROUP_HOME = "4", "Group home"
    INSTITUTION = "5", "Institution"
    SUPERVISED_INDEPENDENT = "6", "Supervised independent living"
    RUNAWAY = "7", "Runaway"
    TRIAL_HOME_VISIT = "8", "Trial home visit"


# Settings in no resource home: a runaway is nowhere, a trial home visit is the family's home.
NO_HOME_SETTINGS = frozenset({Setting.RUNAWAY, Setting.TRIAL_HOME_VISIT})


class DischargeReason(models.TextChoices):
    """AFCARS DISREASN (FEDERAL_TABLES.md ``episodes.discharge_reason``)."""

    REUNIFICATION = "1", "Reunification with parent(s) or primary caretaker(s)"
    RELATIVE = "2", "Living with other relative(s)"
    ADOPTION = "3", "Adoption"
    EMANCIPATION = "4", "Emancipation"
    GUARDIANSHIP = "5", "Guardianship"
    TRANSFER = "6", "Transfer to another agency"
    RUNAWAY = "7", "Runaway"
    DEATH = "8", "Death of child"


class RemovalManner(models.TextChoices):
    """AFCARS MANREM; blank when the source did not record it (e.g. a simulated history)."""

    VOLUNTARY = "1", "Voluntary placement agreement"
    COURT_ORDERED = "2", "Court ordered"
    NOT_DETERMINED = "3", "Not yet determined"


class HomeType(models.TextChoices):
    FOSTER_FAMILY = "foster_family", "Foster family home"
    KINSHIP = "kinship", "Kinship (relative) home"
    PRE_ADOPTIVE = "pre_adoptive", "Pre-adoptive home"
    GROUP = "group", "Group home"
    INSTITUTION = "institution", "Institution"
    INDEPENDENT_LIVING = "independent_living", "Supervised independent living"


# The AFCARS settings a (non-temporary) placement in each type of home may have: a foster or
# kin home that becomes the child's pre-adoptive home keeps its licence, so 1 is allowed there.
HOME_SETTINGS: dict[str, frozenset[str]] = {
    HomeType.FOSTER_FAMILY: frozenset({Setting.NONRELATIVE_FOSTER, Setting.PRE_ADOPTIVE}),
    HomeType.KINSHIP: frozenset({Setting.RELATIVE_FOSTER, Setting.PRE_ADOPTIVE}),
    HomeType.PRE_ADOPTIVE: frozenset({Setting.PRE_ADOPTIVE}),
    HomeType.GROUP: frozenset({Setting.GROUP_HOME}),
    HomeType.INSTITUTION: frozenset({Setting.INSTITUTION}),
    HomeType.INDEPENDENT_LIVING: frozenset({Setting.SUPERVISED_INDEPENDENT}),
}


class HomeStatus(models.TextChoices):
    APPLICANT = "applicant", "Applicant (home study)"
    LICENSED = "licensed", "Licensed"
    ON_HOLD = "on_hold", "On hold"
    CLOSED = "closed", "Closed"


class ResourceHome(ScopedRecord):
    """A foster or kin home, group home or facility (``code``: the AFCARS provider id)."""

    RECORD_TYPE: ClassVar[str] = "resource_home"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    home_type = models.CharField(max_length=20, choices=HomeType.choices)
    status = models.CharField(max_length=12, choices=HomeStatus.choices, default="licensed")
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    licensed_from = models.DateField(null=True, blank=True)
    licensed_until = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(licensed_until__isnull=True)
                | Q(licensed_from__isnull=True)
                | Q(licensed_until__gte=F("licensed_from")),
                name="resource_home_licence_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ResourceHomeCaregiver(BaseModel):
    """A person who cares for children in a home (the relative of a kin home)."""

    home = models.ForeignKey(ResourceHome, on_delete=models.CASCADE, related_name="caregivers")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="resource_homes")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["home", "person"], name="unique_home_caregiver")
        ]


class Episode(ScopedRecord):
    """One removal episode of one child: from the removal to the discharge (open: in care)."""

    RECORD_TYPE: ClassVar[str] = "episode"

    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="episodes")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="episodes"
    )
    removal_date = models.DateField()
    removal_manner = models.CharField(max_length=1, choices=RemovalManner.choices, blank=True)
    # Codes of ``placements.removal_reasons``.
    removal_reasons = models.JSONField(default=list, blank=True)
    discharge_date = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=1, choices=DischargeReason.choices, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["child", "removal_date"]
        constraints = [
            models.UniqueConstraint(fields=["child", "removal_date"], name="unique_episode_start"),
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(discharge_date__isnull=True),
                name="one_open_episode_per_child",
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True) | Q(discharge_date__gte=F("removal_date")),
                name="episode_discharge_after_removal",
            ),
            # A discharge has a reason, and only a discharge has one.
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True, discharge_reason="")
                | (Q(discharge_date__isnull=False) & ~Q(discharge_reason="")),
                name="episode_discharge_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk}"

    @property
    def in_care(self) -> bool:
        return self.discharge_date is None


class PlacementEndReason(models.TextChoices):
    MOVED = "moved", "Moved to another placement"
    DISCHARGED = "discharged", "Discharged from care"


class Placement(BaseModel):
    """One setting within an episode, from ``start_date`` to ``end_date`` (inclusive; the day
    before the next placement starts, or the discharge date). Access follows the episode."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="placements")
    setting = models.CharField(max_length=1, choices=Setting.choices)
    # A respite or hospital stay or other short absence: not a change of placement.
    temporary = models.BooleanField(default=False)
    resource_home = models.ForeignKey(
        ResourceHome, null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=PlacementEndReason.choices, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["episode", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "start_date"], name="unique_placement_start"
            ),
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(end_date__isnull=True),
                name="one_current_placement_per_episode",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="placement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(setting__in=["1", "2", "3", "4", "5", "6", "7", "8"]),
                name="placement_setting_is_afcars",
            ),
        ]


class EpisodeEvent(models.Model):
    """Every step of an episode: removal, each change of placement, discharge."""

    class Move(models.TextChoices):
        REMOVE = "remove", "Removed from home"
        MOVE = "move", "Placement changed"
        DISCHARGE = "discharge", "Discharged"
        LOAD = "load", "Loaded"

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="events")
    move = models.CharField(max_length=16, choices=Move.choices)
    on = models.DateField()
    by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["on", "at", "id"]
