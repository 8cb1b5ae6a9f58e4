"""Every write to removals, placements and resource homes: keyword-only, atomic, audited, and
each step of an episode writes an ``EpisodeEvent``.

The invariants (``rules``) are checked here before anything is written, against the child's
history read under a lock on the child's row, so two workers recording a removal of the same
child at once cannot both pass. The database constraints are the second line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from kinfolk.cases import services as case_services
from kinfolk.cases.models import Case
from kinfolk.core import access, audit
from kinfolk.core.errors import Forbidden, ValidationFailed
from kinfolk.core.models import OrgUnit, User
from kinfolk.core.policy import agency_zone
from kinfolk.core.services import check_version
from kinfolk.people.models import Person
from kinfolk.placements import rules
from kinfolk.placements.models import (
    HOME_SETTINGS,
    NO_HOME_SETTINGS,
    DischargeReason,
    Episode,
    EpisodeEvent,
    HomeStatus,
    HomeType,
    Placement,
    PlacementEndReason,
    RemovalManner,
    ResourceHome,
    ResourceHomeCaregiver,
    Setting,
)
from kinfolk.placements.policy import placement_policy


def _today() -> date:
    return timezone.localdate(timezone=agency_zone())


def _fail(message: str, errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(message, fields=errors)


def _in_scope(user: User, action: str, unit: OrgUnit) -> bool:
    return any(unit.path.startswith(p) for p in access.scope_paths(user, action))


def _not_future(errors: dict[str, list[str]], field: str, day: date) -> None:
    if day > _today():
        errors.setdefault(field, []).append("Cannot be in the future.")


def _home(resource_home_id: Any, errors: dict[str, list[str]]) -> ResourceHome | None:
    if resource_home_id in (None, ""):
        return None
    try:
        home = ResourceHome.objects.get(pk=resource_home_id)
    except (ResourceHome.DoesNotExist, DjangoValidationError, ValueError, TypeError):
        errors["resource_home"] = ["No such resource home."]
        return None
    if home.status == HomeStatus.CLOSED:
        errors["resource_home"] = ["This home is closed."]
    return home


def _check_setting(
    setting: str, home: ResourceHome | None, temporary: bool, errors: dict[str, list[str]]
) -> None:
    """The setting is an AFCARS code, and fits the home: runaways and trial home visits are in
    no resource home; a (non-temporary) stay in a home has a setting its type allows."""
    if setting not in Setting.values:
        errors["setting"] = [f"One of the AFCARS settings {', '.join(Setting.values)}."]
        return
    if setting in NO_HOME_SETTINGS and home is not None:
        errors["resource_home"] = [f"A {Setting(setting).label.lower()} is in no resource home."]
    elif home is not None and not temporary and setting not in HOME_SETTINGS[home.home_type]:
        allowed = ", ".join(sorted(HOME_SETTINGS[home.home_type]))
        errors["setting"] = [f"A {home.get_home_type_display().lower()} takes setting {allowed}."]


def _placement_audit(user: User, placement: Placement, action: str, fields: Sequence[str]) -> None:
    audit.record(
        user=user,
        action=action,
        record_type="placement",
        record_id=placement.pk,
        fields=fields,
        detail={
            "episode": str(placement.episode_id),
            "setting": placement.setting,
            "resource_home": str(placement.resource_home_id or ""),
        },
    )


def _bump(episode: Episode, user: User, reason: str, fields: Sequence[str] = ()) -> None:
    episode.version += 1
    episode.updated_by = user
    episode.updated_at = timezone.now()
    episode._change_reason = reason  # type: ignore[attr-defined]
    episode.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _end(placement: Placement, user: User, end_date: date, reason: str) -> None:
    placement.end_date, placement.end_reason = end_date, reason
    placement.version += 1
    placement.updated_by = user
    placement.updated_at = timezone.now()
    placement._change_reason = reason  # type: ignore[attr-defined]
    placement.save(update_fields=["end_date", "end_reason", "version", "updated_by", "updated_at"])
    _placement_audit(user, placement, "update", ["end_date", "end_reason"])


# --- Resource homes ------------------------------------------------------------------------


@transaction.atomic
def resource_home_create(
    *,
    user: User,
    org_unit: OrgUnit,
    name: str,
    home_type: str,
    code: str = "",
    capacity: int | None = None,
    licensed_from: date | None = None,
    licensed_until: date | None = None,
    caregiver_ids: Sequence[Any] = (),
) -> ResourceHome:
    """A licensed home or facility in ``org_unit`` (inside the user's ``resource_home.manage``
    scope), with the people who care for children there."""
    access.require_permission(user, "resource_home.manage")
    if not _in_scope(user, "resource_home.manage", org_unit):
        raise Forbidden("You can license homes only inside your own offices and counties.")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["Required, at most 200 characters."]
    if home_type not in HomeType.values:
        errors["home_type"] = [f"One of {', '.join(HomeType.values)}."]
    code = (code or "").strip() or f"RH-{timezone.now():%y%m%d%H%M%S%f}"
    if len(code) > 32:
        errors["code"] = ["At most 32 characters."]
    elif ResourceHome.objects.filter(code=code).exists():
        errors["code"] = ["Another home has this provider id."]
    if capacity is not None and not 0 < capacity <= 500:
        errors["capacity"] = ["Between 1 and 500."]
    if licensed_from and licensed_until and licensed_until < licensed_from:
        errors["licensed_until"] = ["The licence cannot end before it starts."]
    people = list(
        access.visible(user, "person.view", Person.objects.filter(pk__in=list(caregiver_ids)))
    )
    if len(people) != len(set(caregiver_ids)):
        errors["caregivers"] = ["No such person in your scope."]
    _fail("The home could not be created.", errors)
    home = ResourceHome(
        org_unit=org_unit,
        code=code,
        name=name,
        home_type=home_type,
        capacity=capacity,
        licensed_from=licensed_from,
        licensed_until=licensed_until,
        status=HomeStatus.LICENSED,
        created_by=user,
        updated_by=user,
    )
    home.save(force_insert=True)
    for person in people:
        ResourceHomeCaregiver.objects.create(
            home=home, person=person, created_by=user, updated_by=user
        )
    audit.record(
        user=user,
        action="create",
        record_type=ResourceHome.RECORD_TYPE,
        record_id=home.pk,
        fields=["name", "home_type", "code", *(["caregivers"] if people else [])],
        detail={"code": home.code},
    )
    return home


# --- Removal, change of placement, discharge -----------------------------------------------


def _case_for(user: User, child: Person, case_id: Any, org_unit: OrgUnit, day: date) -> Case:
    """The open case the episode belongs to: the one named (the child a current member), or a
    new foster-care case with the child as its member."""
    if case_id in (None, ""):
        return case_services.case_open(
            user=user,
            org_unit=org_unit,
            kind="foster_care",
            opened_on=day,
            members=[(child.pk, "child")],
        )
    case = access.access_record_by_id(user, Case, case_id, "case.manage", audit_view=False)
    if case.status != "open":
        raise ValidationFailed("Closed case.", fields={"case": ["This case is closed."]})
    if not case.members.filter(person=child, end_date__isnull=True).exists():
        raise ValidationFailed(
            "Not in the case.", fields={"case": ["The child is not a member of this case."]}
        )
    return case


@transaction.atomic
def child_remove(
    *,
    user: User,
    child_id: Any,
    org_unit: OrgUnit,
    removal_date: date,
    setting: str,
    removal_manner: str = "",
    removal_reasons: Sequence[str] = (),
    resource_home_id: Any = None,
    temporary: bool = False,
    case_id: Any = None,
) -> Episode:
    """Remove a child: a new episode managed by ``org_unit`` and its first placement, which
    starts on the removal date. The child may not be in care already, and the removal may not
    fall inside an earlier episode."""
    access.require_permission(user, "placement.manage")
    if not _in_scope(user, "placement.manage", org_unit):
        raise Forbidden("You can record removals only inside your own offices and counties.")
    # The child's row, locked: every removal of this child queues behind this one.
    child = access.access_record_by_id(
        user,
        Person,
        child_id,
        "person.view",
        queryset=Person.objects.filter(status="active"),
        audit_view=False,
        for_update=True,
    )
    errors: dict[str, list[str]] = {}
    _not_future(errors, "removal_date", removal_date)
    if removal_manner and removal_manner not in RemovalManner.values:
        errors["removal_manner"] = [f"One of {', '.join(RemovalManner.values)}."]
    reasons = list(dict.fromkeys(removal_reasons))
    unknown = [r for r in reasons if r not in placement_policy().removal_reasons]
    if unknown:
        errors["removal_reasons"] = [f"Unknown reason(s): {', '.join(unknown)}."]
    home = _home(resource_home_id, errors)
    _check_setting(setting, home, temporary, errors)
    if setting in NO_HOME_SETTINGS:
        errors.setdefault("setting", []).append("A removal begins with a placement setting.")
    history = list(child.episodes.values_list("removal_date", "discharge_date"))
    for field, message in rules.episode_problems([*history, (removal_date, None)]):
        errors.setdefault(field, []).append(message)
    _fail("The removal could not be recorded.", errors)
    case = _case_for(user, child, case_id, org_unit, removal_date)
    episode = Episode(
        org_unit=org_unit,
        restricted=child.restricted,
        child=child,
        case=case,
        removal_date=removal_date,
        removal_manner=removal_manner,
        removal_reasons=reasons,
        created_by=user,
        updated_by=user,
    )
    episode._change_reason = "removal"  # type: ignore[attr-defined]
    episode.save(force_insert=True)
    placement = Placement(
        episode=episode,
        setting=setting,
        temporary=temporary,
        resource_home=home,
        start_date=removal_date,
        created_by=user,
        updated_by=user,
    )
    placement.save(force_insert=True)
    EpisodeEvent.objects.create(
        episode=episode, move=EpisodeEvent.Move.REMOVE, on=removal_date, by=user
    )
    audit.record(
        user=user,
        action="create",
        record_type=Episode.RECORD_TYPE,
        record_id=episode.pk,
        fields=["child", "removal_date", "removal_manner", "removal_reasons", "case"],
        detail={"child": str(child.pk), "case": str(case.pk)},
    )
    _placement_audit(user, placement, "create", ["setting", "resource_home", "start_date"])
    return episode


def _episode_for_write(user: User, episode_id: Any, expected_version: int) -> Episode:
    episode = access.access_record_by_id(
        user, Episode, episode_id, "placement.manage", audit_view=False, for_update=True
    )
    check_version(episode, expected_version)
    return episode


def _current(episode: Episode) -> Placement:
    # Locked with its episode: a concurrent change waits for this one.
    current = (
        Placement.objects.select_for_update().filter(episode=episode, end_date__isnull=True).first()
    )
    if current is None:  # only a discharged episode has none, refused before this
        raise ValidationFailed("No current placement.", fields={"episode": ["Not in care."]})
    return current


@transaction.atomic
def placement_change(
    *,
    user: User,
    episode_id: Any,
    expected_version: int,
    start_date: date,
    setting: str,
    resource_home_id: Any = None,
    temporary: bool = False,
) -> Placement:
    """Move a child in care to a new placement from ``start_date``; the current one ends the
    day before."""
    episode = _episode_for_write(user, episode_id, expected_version)
    errors: dict[str, list[str]] = {}
    if not episode.in_care:
        errors["episode"] = ["The child has been discharged: no placement can start now."]
        _fail("The placement could not be changed.", errors)
    current = _current(episode)
    _not_future(errors, "start_date", start_date)
    if start_date <= current.start_date:
        errors.setdefault("start_date", []).append(
            "A new placement starts after the current one did."
        )
    home = _home(resource_home_id, errors)
    _check_setting(setting, home, temporary, errors)
    if (
        not errors
        and home is not None
        and home.pk == current.resource_home_id
        and setting == current.setting
        and temporary == current.temporary
    ):
        errors["resource_home"] = ["The child is already placed there in this setting."]
    if not errors:
        spans = list(
            episode.placements.exclude(pk=current.pk).values_list("start_date", "end_date")
        )
        spans += [(current.start_date, start_date - timedelta(days=1)), (start_date, None)]
        for field, message in rules.placement_problems(episode.removal_date, None, spans):
            errors.setdefault(field, []).append(message)
    _fail("The placement could not be changed.", errors)
    _end(current, user, start_date - timedelta(days=1), PlacementEndReason.MOVED)
    placement = Placement(
        episode=episode,
        setting=setting,
        temporary=temporary,
        resource_home=home,
        start_date=start_date,
        created_by=user,
        updated_by=user,
    )
    placement.save(force_insert=True)
    _bump(episode, user, "placement changed")
    EpisodeEvent.objects.create(
        episode=episode, move=EpisodeEvent.Move.MOVE, on=start_date, by=user
    )
    _placement_audit(user, placement, "create", ["setting", "resource_home", "start_date"])
    audit.record(
        user=user,
        action="update",
        record_type=Episode.RECORD_TYPE,
        record_id=episode.pk,
        fields=["placements"],
        detail={"version": episode.version, "placement": str(placement.pk)},
    )
    return placement


@transaction.atomic
def child_discharge(
    *,
    user: User,
    episode_id: Any,
    expected_version: int,
    discharge_date: date,
    discharge_reason: str,
) -> Episode:
    """Discharge a child from care: the episode and its current placement end that day."""
    episode = _episode_for_write(user, episode_id, expected_version)
    errors: dict[str, list[str]] = {}
    if not episode.in_care:
        errors["episode"] = ["The child has already been discharged."]
        _fail("The discharge could not be recorded.", errors)
    current = _current(episode)
    if discharge_reason not in DischargeReason.values:
        errors["discharge_reason"] = [
            f"One of the AFCARS reasons {', '.join(DischargeReason.values)}."
        ]
    _not_future(errors, "discharge_date", discharge_date)
    if discharge_date < episode.removal_date:
        errors.setdefault("discharge_date", []).append("The discharge comes before the removal.")
    elif discharge_date < current.start_date:
        errors.setdefault("discharge_date", []).append(
            "The discharge comes before the current placement started."
        )
    _fail("The discharge could not be recorded.", errors)
    _end(current, user, discharge_date, PlacementEndReason.DISCHARGED)
    episode.discharge_date, episode.discharge_reason = discharge_date, discharge_reason
    _bump(episode, user, "discharge", ["discharge_date", "discharge_reason"])
    EpisodeEvent.objects.create(
        episode=episode, move=EpisodeEvent.Move.DISCHARGE, on=discharge_date, by=user
    )
    audit.record(
        user=user,
        action="update",
        record_type=Episode.RECORD_TYPE,
        record_id=episode.pk,
        fields=["discharge_date", "discharge_reason"],
        detail={"version": episode.version, "reason": discharge_reason},
    )
    return episode
