from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from kinfolk.core.models import AuditEvent, OrgUnit, Role, User
from kinfolk.people.models import DobPrecision, Hispanic, Sex


class SafeModelChoiceField(forms.ModelChoiceField):
    """A choice looked up in the database only after hostile text (NUL...) is refused."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class DateInput(forms.DateInput):
    input_type = "date"


def _not_future(value: Any) -> None:
    if value and value > timezone.localdate():
        raise forms.ValidationError("Cannot be in the future.")


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="First and last name, or “last, first”. Typos are fine.",
    )
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)
    identifier = forms.RegexField(
        label="SSN or last 4 digits", regex=r"^[0-9 -]{0,11}$", required=False, max_length=11
    )


class PersonForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    middle_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100)
    suffix = forms.CharField(max_length=20, required=False)
    date_of_birth = forms.DateField(required=False, widget=DateInput, validators=[_not_future])
    dob_precision = forms.ChoiceField(
        label="Date of birth is", choices=DobPrecision.choices, initial=DobPrecision.EXACT
    )
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN)
    race_amiakn = forms.BooleanField(label="American Indian or Alaska Native", required=False)
    race_asian = forms.BooleanField(label="Asian", required=False)
    race_blkafram = forms.BooleanField(label="Black or African American", required=False)
    race_hawaiipi = forms.BooleanField(
        label="Native Hawaiian or Other Pacific Islander", required=False
    )
    race_white = forms.BooleanField(label="White", required=False)
    race_unknown = forms.BooleanField(label="Race unknown", required=False)
    race_declined = forms.BooleanField(label="Declined to answer", required=False)
    hispanic = forms.ChoiceField(
        label="Hispanic or Latino", choices=Hispanic.choices, initial=Hispanic.UNKNOWN
    )
    tribal_affiliation = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, value in list(data.items()):
            if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
                self.add_error(name, "Contains control characters.")
        return data


class PersonCreateForm(PersonForm):
    org_unit = forms.ModelChoiceField(label="County or office", queryset=OrgUnit.objects.none())
    ssn = forms.RegexField(
        label="SSN",
        regex=r"^\d{3}-?\d{2}-?\d{4}$",
        required=False,
        help_text="Optional. Stored encrypted; shown as the last 4 digits.",
    )

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["org_unit"].queryset = units  # type: ignore[attr-defined]


class PersonEditForm(PersonForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=2000,
        help_text="Shown to the auditor. Access lasts a few hours.",
    )


class AuditFilterForm(forms.Form):
    username = forms.CharField(max_length=150, required=False)
    record_id = forms.CharField(max_length=64, required=False, label="Record id")
    action = forms.ChoiceField(choices=[("", "Any"), *AuditEvent.Action.choices], required=False)
    since = forms.DateField(required=False, widget=DateInput)
    until = forms.DateField(required=False, widget=DateInput)
    break_glass = forms.BooleanField(label="Break-glass only", required=False)


class UserCreateForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]{1,150}$", max_length=150)
    display_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        max_length=128,
    )
    role = SafeModelChoiceField(queryset=Role.objects.all())
    org_unit = SafeModelChoiceField(queryset=OrgUnit.objects.all(), required=False)


class RoleAddForm(forms.Form):
    role = SafeModelChoiceField(queryset=Role.objects.all())
    org_unit = SafeModelChoiceField(queryset=OrgUnit.objects.all(), required=False)


class SupervisorForm(forms.Form):
    """A user's supervisor by username; left empty, the user has no supervisor."""

    supervisor = SafeModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        to_field_name="username",
        required=False,
        widget=forms.TextInput(attrs={"list": "usernames", "autocomplete": "off"}),
        error_messages={"invalid_choice": "No active user has that username."},
    )
