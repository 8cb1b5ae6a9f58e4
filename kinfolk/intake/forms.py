"""The intake page's form: call, reporter, up to 4 children and 3 adults, up to 6 allegations.

Fixed slots keep the page fast and keyboard-friendly (no script to add rows); empty slots
are ignored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from kinfolk.intake.models import ReportPerson
from kinfolk.intake.policy import intake_policy
from kinfolk.people.models import Sex

CHILD_SLOTS = 4
ADULT_SLOTS = 3
ALLEGATION_SLOTS = 6
ADULT_ROLES = [
    (ReportPerson.Role.ALLEGED_PERPETRATOR, "Alleged perpetrator"),
    (ReportPerson.Role.CAREGIVER, "Parent or caregiver"),
    (ReportPerson.Role.OTHER_ADULT, "Other adult"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


def _choices(code_set: str, blank: str | None = None) -> list[tuple[str, str]]:
    items = list(intake_policy().codes[code_set].items())
    return ([("", blank)] if blank is not None else []) + items


class IntakeForm(forms.Form):
    draft = forms.CharField(widget=forms.HiddenInput, required=False)
    linked_to = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # Picked in the history panel from the named people's households (or derived on filing).
    household = forms.UUIDField(required=False, widget=forms.HiddenInput)
    received_at = forms.DateTimeField(label="Call received", widget=DateTimeInput)
    channel = forms.ChoiceField(choices=[])
    org_unit = forms.ChoiceField(
        label="Responsible office",
        choices=[],
        required=False,
        help_text="Left empty, it is the office of the family's records in the registry.",
    )
    reporter_source = forms.ChoiceField(label="Reporter is", choices=[])
    reporter_anonymous = forms.BooleanField(label="Anonymous", required=False)
    reporter_name = forms.CharField(label="Reporter's name", max_length=200, required=False)
    reporter_phone = forms.RegexField(
        label="Reporter's phone", regex=r"^\+?[0-9 ().-]{0,20}$", required=False
    )
    narrative = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text="What the reporter saw or heard, in their words.",
    )
    location = forms.CharField(max_length=300, required=False, label="Where the children are now")
    safety_animals = forms.BooleanField(label="Dangerous animals", required=False)
    safety_weapons = forms.BooleanField(label="Weapons in the home", required=False)
    safety_threats = forms.BooleanField(label="Threats to workers", required=False)
    safety_notes = forms.CharField(label="Worker-safety notes", max_length=1000, required=False)

    def __init__(self, *args: Any, offices: list[tuple[str, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = _choices("channels")  # type: ignore[attr-defined]
        self.fields["reporter_source"].choices = _choices("reporter_sources", "Choose…")  # type: ignore[attr-defined]
        family = ("", "From the family's records")
        self.fields["org_unit"].choices = [family, *offices]  # type: ignore[attr-defined]
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        for kind, count in (("child", CHILD_SLOTS), ("adult", ADULT_SLOTS)):
            for n in range(1, count + 1):
                p = f"{kind}{n}"
                self.fields[f"{p}_person"] = forms.CharField(
                    required=False, widget=forms.HiddenInput
                )
                self.fields[f"{p}_first"] = forms.CharField(
                    label="First name", max_length=100, required=False
                )
                self.fields[f"{p}_last"] = forms.CharField(
                    label="Last name", max_length=100, required=False
                )
                self.fields[f"{p}_dob"] = forms.DateField(
                    label="Date of birth", required=False, widget=DateInput
                )
                self.fields[f"{p}_sex"] = forms.ChoiceField(
                    label="Sex", choices=Sex.choices, initial=Sex.UNKNOWN, required=False
                )
                self.fields[f"{p}_new"] = forms.BooleanField(
                    label="Not in the registry: add as new", required=False
                )
                if kind == "adult":
                    self.fields[f"{p}_role"] = forms.ChoiceField(
                        label="Role", choices=ADULT_ROLES, required=False
                    )
        child_choices = [("", "—")] + [
            (f"child{n}", f"Child {n}") for n in range(1, CHILD_SLOTS + 1)
        ]
        adult_choices = [("", "Unknown")] + [
            (f"adult{n}", f"Adult {n}") for n in range(1, ADULT_SLOTS + 1)
        ]
        for n in range(1, ALLEGATION_SLOTS + 1):
            p = f"alleg{n}"
            self.fields[f"{p}_child"] = forms.ChoiceField(
                label="Child", choices=child_choices, required=False
            )
            self.fields[f"{p}_perp"] = forms.ChoiceField(
                label="Alleged perpetrator", choices=adult_choices, required=False
            )
            self.fields[f"{p}_rel"] = forms.ChoiceField(
                label="Relationship",
                choices=_choices("perpetrator_relationships"),
                required=False,
                initial="parent",
            )
            self.fields[f"{p}_type"] = forms.ChoiceField(
                label="Maltreatment", choices=_choices("maltreatment_types", "—"), required=False
            )
            self.fields[f"{p}_date"] = forms.DateField(
                label="Incident date", required=False, widget=DateInput
            )
            self.fields[f"{p}_approx"] = forms.BooleanField(label="Approximate", required=False)

    def slot(self, prefix: str) -> dict[str, Any]:
        return {
            name[len(prefix) + 1 :]: self[name]
            for name in self.fields
            if name.startswith(prefix + "_")
        }

    @property
    def children(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"child{n}", self.slot(f"child{n}")) for n in range(1, CHILD_SLOTS + 1)]

    @property
    def adults(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"adult{n}", self.slot(f"adult{n}")) for n in range(1, ADULT_SLOTS + 1)]

    @property
    def allegation_rows(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"alleg{n}", self.slot(f"alleg{n}")) for n in range(1, ALLEGATION_SLOTS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        received = data.get("received_at")
        if received and received > timezone.now():
            self.add_error("received_at", "Cannot be in the future.")
        for name, value in list(data.items()):
            if name.endswith("_date") and value and value > timezone.localdate():
                self.add_error(name, "Cannot be in the future.")
            if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
                self.add_error(name, "Contains control characters.")
        return data


class ScreenForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("in", "Screen in"), ("out", "Screen out")], widget=forms.RadioSelect
    )
    serious_injury = forms.BooleanField(label="Serious physical injury", required=False)
    safety_threat = forms.BooleanField(label="Present safety threat", required=False)
    low_risk = forms.BooleanField(
        label="Low risk, family would accept community help", required=False
    )
    narrative = forms.CharField(
        label="Why", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    reason = forms.ChoiceField(label="Screen-out reason", required=False, choices=[])
    track = forms.ChoiceField(label="Override track", required=False, choices=[])
    priority = forms.ChoiceField(label="Override priority", required=False, choices=[])
    override_reason = forms.CharField(
        label="Reason for overriding the rules", required=False, max_length=2000
    )
    information_referral = forms.CharField(
        label="Information and referral (screen-out)", required=False, max_length=2000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = intake_policy()
        self.fields["reason"].choices = _choices("screen_out_reasons", "—")  # type: ignore[attr-defined]
        self.fields["track"].choices = _choices("tracks", "Keep the rule's track")  # type: ignore[attr-defined]
        self.fields["priority"].choices = [("", "Keep the rule's priority")] + [  # type: ignore[attr-defined]
            (p.code, p.label) for p in policy.priorities.values()
        ]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Worker", choices=[])
    version = forms.IntegerField(widget=forms.HiddenInput)


class ContactForm(forms.Form):
    child = forms.ChoiceField(choices=[])
    contact_at = forms.DateTimeField(label="Seen face to face at", widget=DateTimeInput)
    location = forms.CharField(max_length=200)
    made_by = forms.ChoiceField(label="Seen by", choices=[], required=False)


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000, label="Note")
