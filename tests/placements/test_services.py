"""Removal, change of placement and discharge keep every invariant, or refuse with the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from kinfolk.cases.models import Case
from kinfolk.core.errors import AccessDenied, Conflict, Forbidden, ValidationFailed
from kinfolk.core.models import AuditEvent
from kinfolk.placements import selectors, services
from kinfolk.placements.models import Episode, EpisodeEvent, Placement


def _counts():
    return Episode.objects.count(), Placement.objects.count(), Case.objects.count()


def test_a_removal_opens_an_episode_its_first_placement_and_a_foster_care_case(
    removed, foster_home
):
    episode = removed(days=60)
    first = episode.placements.get()
    assert first.start_date == episode.removal_date and first.end_date is None
    assert first.resource_home == foster_home and first.setting == "3"
    assert episode.case.kind == "foster_care"
    assert episode.case.members.get().person == episode.child
    assert list(episode.events.values_list("move", flat=True)) == ["remove"]
    audited = set(AuditEvent.objects.filter(action="create").values_list("record_type", flat=True))
    assert {"episode", "placement", "case"} <= audited
    assert episode.history.count() == 1 and first.history.count() == 1


def test_a_child_in_care_cannot_be_removed_again(removed, personas, org, foster_home, days_ago):
    episode = removed(days=60)
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        services.child_remove(
            user=personas["felix"],
            child_id=episode.child_id,
            org_unit=org["ADM-N"],
            removal_date=days_ago(10),
            setting="3",
            resource_home_id=foster_home.pk,
        )
    assert "removal_date" in caught.value.fields
    assert _counts() == before


def _discharge(episode, days_ago, days, reason="1"):
    return services.child_discharge(
        user=episode.created_by,
        episode_id=episode.pk,
        expected_version=episode.version,
        discharge_date=days_ago(days),
        discharge_reason=reason,
    )


def test_a_removal_cannot_fall_inside_an_earlier_episode(
    removed, personas, org, foster_home, days_ago
):
    episode = _discharge(removed(days=60), days_ago, 20)
    before = _counts()
    with pytest.raises(ValidationFailed) as caught:
        services.child_remove(
            user=personas["felix"],
            child_id=episode.child_id,
            org_unit=org["ADM-N"],
            removal_date=days_ago(30),
            setting="3",
            resource_home_id=foster_home.pk,
        )
    assert "removal_date" in caught.value.fields
    assert _counts() == before
    # On the day of the discharge it is a new episode (a same-day return), which is fine.
    again = services.child_remove(
        user=personas["felix"],
        child_id=episode.child_id,
        org_unit=org["ADM-N"],
        removal_date=days_ago(20),
        setting="3",
        resource_home_id=foster_home.pk,
    )
    assert again.pk != episode.pk


def test_bad_values_are_refused_field_by_field(personas, org, person_in, kin_home, days_ago):
    child = person_in("ADM-N")
    with pytest.raises(ValidationFailed) as caught:
        services.child_remove(
            user=personas["felix"],
            child_id=child.pk,
            org_unit=org["ADM-N"],
            removal_date=days_ago(-2),
            removal_manner="9",
            removal_reasons=["boredom"],
            setting="3",  # a kin home takes setting 2 (or 1)
            resource_home_id=kin_home.pk,
        )
    assert set(caught.value.fields) == {
        "removal_date",
        "removal_manner",
        "removal_reasons",
        "setting",
    }
    with pytest.raises(ValidationFailed) as runaway:
        services.child_remove(
            user=personas["felix"],
            child_id=child.pk,
            org_unit=org["ADM-N"],
            removal_date=days_ago(1),
            setting="7",
            resource_home_id=kin_home.pk,
        )
    assert {"setting", "resource_home"} <= set(runaway.value.fields)
    assert _counts() == (0, 0, 0)


def test_only_a_role_that_manages_placements_removes_and_only_in_its_scope(
    personas, org, person_in, days_ago
):
    child = person_in("CED-1")
    for user, unit in ((personas["hana"], "ADM-N"), (personas["felix"], "CED-1")):
        with pytest.raises(Forbidden):
            services.child_remove(
                user=user,
                child_id=child.pk,
                org_unit=org[unit],
                removal_date=days_ago(1),
                setting="4",
            )
    assert _counts() == (0, 0, 0)


def test_a_change_of_placement_ends_the_current_one_the_day_before(removed, kin_home, days_ago):
    episode = removed(days=60)
    new = services.placement_change(
        user=episode.created_by,
        episode_id=episode.pk,
        expected_version=1,
        start_date=days_ago(30),
        setting="2",
        resource_home_id=kin_home.pk,
    )
    first = episode.placements.order_by("start_date").first()
    assert first.end_date == days_ago(31) and first.end_reason == "moved"
    assert new.end_date is None and new.resource_home == kin_home
    episode.refresh_from_db()
    assert episode.version == 2
    assert list(episode.events.values_list("move", flat=True)) == ["remove", "move"]


def test_a_change_cannot_start_before_the_current_placement_and_writes_nothing(
    removed, kin_home, days_ago
):
    episode = removed(days=60)
    for day in (60, 61):
        with pytest.raises(ValidationFailed) as caught:
            services.placement_change(
                user=episode.created_by,
                episode_id=episode.pk,
                expected_version=1,
                start_date=days_ago(day),
                setting="2",
                resource_home_id=kin_home.pk,
            )
        assert "start_date" in caught.value.fields
    assert episode.placements.count() == 1
    assert episode.placements.get().end_date is None


def test_a_stale_version_gets_a_conflict(removed, kin_home, days_ago):
    episode = removed(days=60)
    with pytest.raises(Conflict):
        services.placement_change(
            user=episode.created_by,
            episode_id=episode.pk,
            expected_version=7,
            start_date=days_ago(3),
            setting="2",
            resource_home_id=kin_home.pk,
        )
    assert episode.placements.count() == 1


def test_a_discharge_ends_the_episode_and_its_current_placement(removed, days_ago):
    episode = _discharge(removed(days=60), days_ago, 5, reason="1")
    assert episode.discharge_date == days_ago(5) and episode.discharge_reason == "1"
    last = episode.placements.get()
    assert last.end_date == days_ago(5) and last.end_reason == "discharged"
    assert EpisodeEvent.objects.filter(episode=episode, move="discharge").exists()


def test_a_discharge_before_the_removal_or_the_current_placement_is_refused(
    removed, kin_home, days_ago
):
    episode = removed(days=60)
    services.placement_change(
        user=episode.created_by,
        episode_id=episode.pk,
        expected_version=1,
        start_date=days_ago(30),
        setting="2",
        resource_home_id=kin_home.pk,
    )
    episode.refresh_from_db()
    for day, reason in ((61, "1"), (40, "1"), (5, "0")):
        with pytest.raises(ValidationFailed):
            _discharge(episode, days_ago, day, reason=reason)
    episode.refresh_from_db()
    assert episode.discharge_date is None
    assert episode.placements.filter(end_date__isnull=True).count() == 1


def test_no_placement_starts_after_the_discharge(removed, kin_home, days_ago):
    episode = _discharge(removed(days=60), days_ago, 10)
    with pytest.raises(ValidationFailed) as caught:
        services.placement_change(
            user=episode.created_by,
            episode_id=episode.pk,
            expected_version=episode.version,
            start_date=days_ago(2),
            setting="2",
            resource_home_id=kin_home.pk,
        )
    assert "episode" in caught.value.fields
    with pytest.raises(ValidationFailed):
        _discharge(episode, days_ago, 1)
    assert episode.placements.count() == 1


def test_a_worker_outside_the_scope_does_not_see_the_episode(removed, personas):
    episode = removed()
    assert list(selectors.episode_list(user=personas["ivan"])) == []
    assert selectors.placement_list(user=personas["ivan"], episode_id=episode.pk) == []
    with pytest.raises(AccessDenied):
        selectors.episode_get(user=personas["ivan"], episode_id=episode.pk)
    assert selectors.episode_get(user=personas["hana"], episode_id=episode.pk) == episode
    assert len(selectors.placement_list(user=personas["hana"], episode_id=episode.pk)) == 1


def test_current_placements_of_children_in_care(removed, personas, days_ago):
    in_care, home_again = removed(), _discharge(removed(), days_ago, 3)
    ids = [in_care.child_id, home_again.child_id]
    current = selectors.current_placements_of(user=personas["sam"], person_ids=ids)
    assert set(current) == {in_care.child_id}
    assert selectors.current_placements_of(user=personas["ivan"], person_ids=ids) == {}


def test_the_database_refuses_a_second_open_episode_and_an_early_discharge(removed, days_ago):
    episode = removed(days=60)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(
            org_unit=episode.org_unit, child=episode.child, removal_date=days_ago(5)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.filter(pk=episode.pk).update(
            discharge_date=episode.removal_date - timedelta(days=1), discharge_reason="1"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(episode=episode, setting="4", start_date=days_ago(1))


@pytest.mark.postgres
def test_on_postgresql_the_database_refuses_overlapping_episodes_and_placements(removed, days_ago):
    episode = _discharge(removed(days=60), days_ago, 20)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(
            org_unit=episode.org_unit,
            child=episode.child,
            removal_date=days_ago(40),
            discharge_date=days_ago(30),
            discharge_reason="1",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(
            episode=episode, setting="4", start_date=days_ago(30), end_date=days_ago(25)
        )
