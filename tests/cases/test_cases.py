"""Cases: opened, joined and closed only through the services, each move audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kinfolk.cases import selectors, services
from kinfolk.cases.models import Case, CaseEvent, CaseMember
from kinfolk.core.errors import AccessDenied, Conflict, Forbidden, ValidationFailed
from kinfolk.core.models import AuditEvent


def _today():
    return timezone.localdate()


@pytest.fixture
def family(person_in):
    return {"child": person_in("ADM-S"), "mother": person_in("ADM-S", date_of_birth=None)}


@pytest.fixture
def case(personas, org, family):
    return services.case_open(
        user=personas["carla"],
        org_unit=org["ADM-S"],
        kind="in_home",
        opened_on=_today() - timedelta(days=30),
        members=[(family["child"].pk, "child"), (family["mother"].pk, "caregiver")],
    )


def test_a_case_opens_with_its_members_an_event_and_an_audit_row(case, family):
    assert case.status == "open" and case.number.startswith("CS-")
    assert {(m.person_id, m.role) for m in case.members.all()} == {
        (family["child"].pk, "child"),
        (family["mother"].pk, "caregiver"),
    }
    assert list(case.events.values_list("move", "to_status")) == [("open", "open")]
    row = AuditEvent.objects.get(record_type="case", record_id=str(case.pk), action="create")
    assert "members" in row.fields
    assert case.history.count() == 1


def test_an_unknown_kind_and_a_future_date_are_refused_by_field(personas, org, family):
    with pytest.raises(ValidationFailed) as caught:
        services.case_open(
            user=personas["carla"],
            org_unit=org["ADM-S"],
            kind="weekend",
            opened_on=_today() + timedelta(days=1),
        )
    assert set(caught.value.fields) == {"kind", "opened_on"}
    assert Case.objects.count() == 0


def test_a_person_the_worker_cannot_see_is_refused_and_nothing_is_written(personas, org, person_in):
    stranger = person_in("CED-1")
    with pytest.raises(ValidationFailed) as caught:
        services.case_open(
            user=personas["carla"],
            org_unit=org["ADM-S"],
            kind="in_home",
            opened_on=_today(),
            members=[(stranger.pk, "child")],
        )
    assert "members[0].person" in caught.value.fields
    assert Case.objects.count() == 0 and CaseMember.objects.count() == 0


def test_a_case_opens_only_inside_the_workers_scope(personas, org):
    with pytest.raises(Forbidden):
        services.case_open(
            user=personas["ivan"], org_unit=org["ADM-N"], kind="in_home", opened_on=_today()
        )
    with pytest.raises(Forbidden):
        services.case_open(
            user=personas["hana"], org_unit=org["ADM-N"], kind="in_home", opened_on=_today()
        )
    assert Case.objects.count() == 0


def test_a_current_member_cannot_be_added_twice(case, personas, family):
    with pytest.raises(ValidationFailed) as caught:
        services.case_member_add(
            user=personas["carla"],
            case_id=case.pk,
            expected_version=case.version,
            person_id=family["child"].pk,
            role="child",
            start_date=_today(),
        )
    assert "person" in caught.value.fields
    assert case.members.count() == 2


def test_adding_a_member_moves_the_version_and_a_stale_copy_gets_a_conflict(
    case, personas, person_in
):
    sibling = person_in("ADM-S")
    services.case_member_add(
        user=personas["carla"],
        case_id=case.pk,
        expected_version=1,
        person_id=sibling.pk,
        role="child",
        start_date=_today(),
    )
    case.refresh_from_db()
    assert case.version == 2 and case.members.count() == 3
    with pytest.raises(Conflict):
        services.case_close(
            user=personas["carla"],
            case_id=case.pk,
            expected_version=1,
            closed_on=_today(),
            reason="services_complete",
        )
    case.refresh_from_db()
    assert case.status == "open"


def test_closing_ends_every_membership_and_writes_an_event(case, personas):
    closed = services.case_close(
        user=personas["carla"],
        case_id=case.pk,
        expected_version=case.version,
        closed_on=_today(),
        reason="services_complete",
    )
    assert closed.status == "closed" and closed.closed_on == _today()
    assert not closed.members.filter(end_date__isnull=True).exists()
    assert CaseEvent.objects.filter(case=case, move="close", from_status="open").exists()
    row = AuditEvent.objects.filter(record_type="case", record_id=str(case.pk)).first()
    assert row is not None and row.action == "update" and "status" in row.fields


def test_a_case_cannot_close_before_it_opened_nor_twice(case, personas):
    with pytest.raises(ValidationFailed) as caught:
        services.case_close(
            user=personas["carla"],
            case_id=case.pk,
            expected_version=case.version,
            closed_on=case.opened_on - timedelta(days=1),
            reason="nonsense",
        )
    assert set(caught.value.fields) == {"closed_on", "reason"}
    services.case_close(
        user=personas["carla"],
        case_id=case.pk,
        expected_version=case.version,
        closed_on=_today(),
        reason="family_moved",
    )
    with pytest.raises(ValidationFailed) as again:
        services.case_close(
            user=personas["carla"],
            case_id=case.pk,
            expected_version=case.version + 1,
            closed_on=_today(),
            reason="family_moved",
        )
    assert "status" in again.value.fields


def test_a_worker_outside_the_scope_neither_lists_nor_opens_the_case(case, personas):
    assert list(selectors.case_list(user=personas["ivan"])) == []
    with pytest.raises(AccessDenied):
        selectors.case_get(user=personas["ivan"], case_id=case.pk)
    assert AuditEvent.objects.filter(
        action="denied", record_type="case", record_id=str(case.pk), user=personas["ivan"]
    ).exists()
    assert selectors.case_get(user=personas["sam"], case_id=case.pk) == case
    assert AuditEvent.objects.filter(
        action="view", record_type="case", record_id=str(case.pk), user=personas["sam"]
    ).exists()


def test_open_cases_of_a_person_are_only_the_open_ones_the_user_may_see(case, personas, family):
    child = family["child"].pk
    assert selectors.open_cases_of(user=personas["hana"], person_ids=[child]) == {child: [case]}
    assert selectors.open_cases_of(user=personas["ivan"], person_ids=[child]) == {}
    services.case_close(
        user=personas["carla"],
        case_id=case.pk,
        expected_version=case.version,
        closed_on=_today(),
        reason="services_complete",
    )
    assert selectors.open_cases_of(user=personas["hana"], person_ids=[child]) == {}


def test_the_database_refuses_a_case_closed_before_it_opened(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            status="closed", closed_on=case.opened_on - timedelta(days=1), close_reason="death"
        )
