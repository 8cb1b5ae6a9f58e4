"""Persons, their names, identifiers, addresses and phones; households and relationships."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.db import models
from simple_history.models import HistoricalRecords

from kinfolk.core.crypto import mask
from kinfolk.core.models import BaseModel, ScopedRecord


class Sex(models.TextChoices):
    """AFCARS SEX / NCANDS ChSex."""

    MALE = "1", "Male"
    FEMALE = "2", "Female"
    UNKNOWN = "9", "Unknown"


class Hispanic(models.TextChoices):
    """AFCARS HISORGIN."""

    YES = "1", "Yes"
    NO = "2", "No"
    UNKNOWN = "3", "Unknown"


class DobPrecision(models.TextChoices):
    EXACT = "exact", "Exact"
    MONTH = "month", "Month and year known"
    YEAR = "year", "Year known"
    ESTIMATED = "estimated", "Estimated from age"


RACE_FIELDS = (
    ("race_amiakn", "American Indian or Alaska Native"),
    ("race_asian", "Asian"),
    ("race_blkafram", "Black or African American"),
    ("race_hawaiipi", "Native Hawaiian or Other Pacific Islander"),
    ("race_white", "White"),
    ("race_unknown", "Unknown"),
    ("race_declined", "Declined"),
)


class PersonStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MERGED = "merged", "Merged into another record"


class Person(ScopedRecord):
    """One human being in the registry: a child, parent, relative, caregiver..."""

    RECORD_TYPE: ClassVar[str] = "person"

    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    dob_precision = models.CharField(
        max_length=16, choices=DobPrecision.choices, default=DobPrecision.EXACT
    )
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    race_amiakn = models.BooleanField("American Indian or Alaska Native", default=False)
    race_asian = models.BooleanField("Asian", default=False)
    race_blkafram = models.BooleanField("Black or African American", default=False)
    race_hawaiipi = models.BooleanField("Native Hawaiian or Other Pacific Islander", default=False)
    race_white = models.BooleanField("White", default=False)
    race_unknown = models.BooleanField("Race unknown", default=False)
    race_declined = models.BooleanField("Race declined", default=False)
    hispanic = models.CharField(max_length=1, choices=Hispanic.choices, default=Hispanic.UNKNOWN)
    tribal_affiliation = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=PersonStatus.choices, default="active")
    # Set when a data steward merged this record into another; the record is kept so an
    # unmerge can restore it and its history stays readable.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    # Normalised search keys, kept in step by the services (see people.search).
    search_first = models.CharField(max_length=100, blank=True, editable=False)
    search_last = models.CharField(max_length=100, blank=True, editable=False)
    search_last_key = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    search_first_key = models.CharField(max_length=32, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["search_first", "search_last", "search_last_key", "search_first_key"]
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["search_last", "search_first"]),
            models.Index(fields=["date_of_birth"]),
            # A surname prefix (LIKE 'abc%') reads this one on PostgreSQL whatever the
            # database's collation (the opclass is ignored on SQLite).
            models.Index(
                fields=["search_last"], opclasses=["varchar_pattern_ops"], name="person_last_prefix"
            ),
        ]

    def __str__(self) -> str:
        return f"Person {self.pk}"

    @property
    def full_name(self) -> str:
        parts = [self.first_name, self.middle_name, self.last_name, self.suffix]
        return " ".join(p for p in parts if p)

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    @property
    def races(self) -> list[str]:
        return [label for name, label in RACE_FIELDS if getattr(self, name)]


class PersonName(BaseModel):
    """Another name the person is known by (alias, birth name, nickname, former name)."""

    class Kind(models.TextChoices):
        ALIAS = "alias", "Alias"
        BIRTH = "birth", "Birth name"
        NICKNAME = "nickname", "Nickname"
        FORMER = "former", "Former name"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ALIAS)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    search_first = models.CharField(max_length=100, blank=True, editable=False)
    search_last = models.CharField(max_length=100, blank=True, editable=False)
    search_last_key = models.CharField(max_length=32, blank=True, editable=False, db_index=True)

    history = HistoricalRecords()

    class Meta:
        indexes = [
            models.Index(
                fields=["search_last"], opclasses=["varchar_pattern_ops"], name="alias_last_prefix"
            ),
        ]


class Identifier(BaseModel):
    """An identifier, encrypted at rest; only the last four characters are shown."""

    class Kind(models.TextChoices):
        SSN = "ssn", "Social Security number"
        MEDICAID = "medicaid", "Medicaid number"
        STATE_ID = "state_id", "State client id"
        TRIBAL = "tribal", "Tribal enrollment number"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value_encrypted = models.TextField()
    last4 = models.CharField(max_length=4, db_index=True)
    digest = models.CharField(max_length=64, db_index=True)

    history = HistoricalRecords(excluded_fields=["value_encrypted", "digest"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="one_identifier_per_kind")
        ]

    @property
    def masked(self) -> str:
        return mask(self.last4, self.kind)


class Address(BaseModel):
    """Where a person lived, from when to when: history is kept, moves add a row."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    street = models.CharField(max_length=200)
    unit = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    postcode = models.CharField(max_length=10, blank=True)
    county = models.CharField(max_length=100, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="address_period_ordered",
            )
        ]

    @property
    def current(self) -> bool:
        return self.valid_to is None


class Phone(BaseModel):
    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MOBILE)

    history = HistoricalRecords()


class Household(ScopedRecord):
    RECORD_TYPE: ClassVar[str] = "household"

    label = models.CharField(max_length=200)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Household {self.pk}"


class HouseholdMember(BaseModel):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, blank=True, help_text="e.g. head, child, partner")
    joined = models.DateField(null=True, blank=True)
    left = models.DateField(null=True, blank=True)

    history = HistoricalRecords()


class RelationshipKind(models.TextChoices):
    """How ``person`` stands to ``related``: "A is the PARENT of B"."""

    PARENT = "parent", "Parent"
    STEP_PARENT = "step_parent", "Step-parent"
    ADOPTIVE_PARENT = "adoptive_parent", "Adoptive parent"
    SIBLING = "sibling", "Sibling"
    HALF_SIBLING = "half_sibling", "Half-sibling"
    GRANDPARENT = "grandparent", "Grandparent"
    AUNT_UNCLE = "aunt_uncle", "Aunt or uncle"
    COUSIN = "cousin", "Cousin"
    KIN = "kin", "Other kin"
    NON_RELATIVE_CAREGIVER = "non_relative_caregiver", "Non-relative caregiver"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    PARTNER = "partner", "Partner"
    FAMILY_FRIEND = "family_friend", "Family friend (fictive kin)"


# Kinds that read the same both ways; the others read "is the X of".
SYMMETRIC_KINDS = frozenset(
    {"sibling", "half_sibling", "cousin", "kin", "partner", "family_friend"}
)


class Relationship(BaseModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships_from")
    related = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships_to")
    kind = models.CharField(max_length=32, choices=RelationshipKind.choices)
    started = models.DateField(null=True, blank=True)
    ended = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(person=models.F("related")), name="relationship_not_self"
            ),
            models.UniqueConstraint(
                fields=["person", "related", "kind"], name="unique_relationship"
            ),
        ]


class PossibleDuplicate(BaseModel):
    """Two records that may be one person, for a data steward to merge or set apart.

    ``person_a`` is the one with the smaller id, so a pair is stored once.
    """

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        CONFIRMED_DIFFERENT = "confirmed_different", "Confirmed different people"
        MERGED = "merged", "Merged"

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    reasons = models.JSONField(default=list)
    source = models.CharField(max_length=32, default="dedupe")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-probability", "person_a_id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="one_duplicate_pair"),
            models.CheckConstraint(
                condition=~models.Q(person_a=models.F("person_b")), name="duplicate_not_self"
            ),
        ]


class PersonMerge(BaseModel):
    """One merge: which record survived, which was merged, and every link it moved.

    ``grants_added`` lists the ids of the access grants the merge carried from the merged
    record to the survivor (see ``survivor_was_restricted``).

    ``moved`` lists ``{"model": app_label.model, "field": name, "pk": id}`` for each row
    re-pointed from the merged record to the survivor (and ``assignment`` rows by id), so
    an unmerge puts back exactly those rows and no others.
    """

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    moved = models.JSONField(default=list)
    kept = models.JSONField(default=list)
    pair_status = models.CharField(max_length=24, blank=True)
    # Restriction follows the data: a survivor that takes in a restricted record becomes
    # restricted, and the merged record's grants are carried to it. Kept so an unmerge
    # restores the survivor's own flag and revokes exactly the grants the merge added.
    survivor_was_restricted = models.BooleanField(null=True, blank=True)
    grants_added = models.JSONField(default=list)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undo_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    @property
    def active(self) -> bool:
        return self.undone_at is None
