"""Random org trees, users and records: no selector may ever return a record outside the rule.

The rule is written once more here, in plain Python over the generated data, as the oracle;
``access.visible`` (the query every selector uses), ``access.can_access`` and the person
search must all agree with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinfolk.core import access
from kinfolk.core import services as core
from kinfolk.core.models import AccessGrant, Assignment, BreakGlass, OrgUnit, Role, Supervision
from kinfolk.core.services import roles_sync_from_policy
from kinfolk.people import selectors
from kinfolk.people.models import Person
from tests.factories import PersonFactory

ROLES = [
    "hotline_worker",
    "investigator",
    "case_worker",
    "supervisor",
    "partner_staff",
    "auditor",
    "office_manager",
    "foster_care_worker",
]
ACTIONS = ["person.view", "person.search", "person.update"]
KINDS = OrgUnit.KIND_ORDER


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    n_units = draw(st.integers(1, 7))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n_units)]
    n_users = draw(st.integers(1, 4))
    n_people = draw(st.integers(1, 8))
    roles = [
        draw(st.lists(st.tuples(st.sampled_from(ROLES), st.integers(0, n_units - 1)), max_size=3))
        for _ in range(n_users)
    ]
    pair = st.tuples(st.integers(0, n_users - 1), st.integers(0, n_people - 1))
    return {
        "parents": parents,
        "roles": roles,
        "active": draw(st.lists(st.booleans(), min_size=n_users, max_size=n_users)),
        "people": draw(
            st.lists(
                st.tuples(st.integers(0, n_units - 1), st.booleans()),
                min_size=n_people,
                max_size=n_people,
            )
        ),
        "supervision": draw(
            st.lists(
                st.tuples(st.integers(0, n_users - 1), st.integers(0, n_users - 1)), max_size=3
            )
        ),
        "assigned": draw(st.lists(st.tuples(pair, st.booleans()), max_size=4)),
        "grants": draw(st.lists(pair, max_size=3)),
        "glass": draw(
            st.lists(
                st.tuples(st.integers(0, n_users - 1), st.integers(0, n_people - 1), st.booleans()),
                max_size=3,
            )
        ),
    }


def _build(world: dict[str, Any]) -> tuple[list[OrgUnit], list[Any], list[Any]]:
    units: list[OrgUnit] = []
    depth: list[int] = []
    for i, parent in enumerate(world["parents"]):
        d = 0 if parent is None else min(depth[parent] + 1, len(KINDS) - 1)
        # a child must sit below its parent: cap the tree at office depth
        if parent is not None and depth[parent] == len(KINDS) - 1:
            parent, d = None, 0
        depth.append(d)
        unit = OrgUnit(
            code=f"U{i}",
            name=f"Unit {i}",
            kind=KINDS[d],
            parent=units[parent] if parent is not None else None,
        )
        unit.save()
        units.append(unit)
    users = []
    for i, assignments in enumerate(world["roles"]):
        user = core.user_create(by=None, username=f"u{i}", password="x", check_password=False)
        user.is_active = world["active"][i]
        user.save(update_fields=["is_active"])
        for role, unit_index in assignments:
            core.role_assign(
                by=None,
                user=user,
                role_code=role,
                org_unit=None if role == "partner_staff" else units[unit_index],
            )
        users.append(user)
    people = [
        PersonFactory(org_unit=units[u], restricted=r, last_name="Same", first_name="Pat")
        for u, r in world["people"]
    ]
    now = timezone.now()
    for a, b in world["supervision"]:
        if a != b:
            Supervision.objects.get_or_create(supervisor=users[a], supervisee=users[b])
    for (u, p), ended in world["assigned"]:
        Assignment.objects.create(
            user=users[u],
            record_type="person",
            record_id=people[p].pk,
            ended_at=now if ended else None,
        )
    for u, p in world["grants"]:
        AccessGrant.objects.create(
            user=users[u],
            record_type="person",
            record_id=people[p].pk,
            granted_by=users[0],
            reason="test",
        )
    for u, p, live in world["glass"]:
        BreakGlass.objects.create(
            user=users[u],
            record_type="person",
            record_id=people[p].pk,
            reason="test reason",
            expires_at=now + timedelta(hours=1 if live else -1),
        )
    return units, users, people


def _oracle(
    world: dict[str, Any],
    units: list[OrgUnit],
    users: list[Any],
    people: list[Person],
    user_index: int,
    action: str,
) -> set[Any]:
    perms = {code: set(Role.objects.get(code=code).permissions) for code in ROLES}
    if not world["active"][user_index]:
        return set()
    mine = world["roles"][user_index]
    if not any(action in perms[role] for role, _ in mine):
        return set()
    scopes = [
        units[u].path for role, u in mine if action in perms[role] and role != "partner_staff"
    ]
    supervisees = {b for a, b in world["supervision"] if a == user_index and a != b}
    allowed = set()
    for p_index, (u, restricted) in enumerate(world["people"]):
        person = people[p_index]
        if restricted and (user_index, p_index) not in world["grants"]:
            continue
        in_scope = any(units[u].path.startswith(path) for path in scopes)
        assigned = any(
            ui == user_index and pi == p_index and not ended
            for (ui, pi), ended in world["assigned"]
        )
        via_team = any(
            ui in supervisees and pi == p_index and not ended
            for (ui, pi), ended in world["assigned"]
        )
        glass = any(ui == user_index and pi == p_index and live for ui, pi, live in world["glass"])
        if in_scope or assigned or via_team or glass:
            allowed.add(person.pk)
    return allowed


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_selector_returns_a_record_outside_the_rule(db: Any, world: dict[str, Any]) -> None:
    with transaction.atomic():
        roles_sync_from_policy()
        units, users, people = _build(world)
        for i, user in enumerate(users):
            user.refresh_from_db()
            for action in ACTIONS:
                expected = _oracle(world, units, users, people, i, action)
                query = set(
                    access.visible(user, action, Person.objects.all()).values_list("pk", flat=True)
                )
                assert query == expected, (action, i)
                one_by_one = {p.pk for p in people if access.can_access(user, p, action).allowed}
                assert one_by_one == expected, (action, i)
            if access.has_permission(user, "person.search"):
                found = selectors.person_search(
                    user=user, query=selectors.SearchQuery(name="Pat Same")
                )
                assert {r.person.pk for r in found} <= _oracle(
                    world, units, users, people, i, "person.search"
                )
        transaction.set_rollback(True)
