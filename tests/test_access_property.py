"""Random org trees, users and records: no selector may ever return a record outside the rule.

The rule is written once more here, in plain Python over the generated data, as the oracle;
``access.visible`` (the query every selector uses), ``access.can_access``, the one-record
reads (``access_record_by_id`` behind ``person_get``, ``household_get``, ``report_get``) and
the list selectors (person search, report list, the supervisor queue, prior history, related
reports) must all agree with it, for users holding any of the policy's roles, on persons,
households and hotline reports.
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
from kinfolk.core.errors import AccessDenied
from kinfolk.core.models import AccessGrant, Assignment, BreakGlass, OrgUnit, Role, Supervision
from kinfolk.core.services import roles_sync_from_policy
from kinfolk.intake import selectors as intake_selectors
from kinfolk.intake.models import Report, ReportPerson
from kinfolk.people import selectors
from kinfolk.people.models import Household, Person
from tests.factories import PersonFactory

# Every role of kinfolk/policy/default.yaml (a test below holds this list to the policy).
ROLES = [
    "hotline_worker",
    "hotline_supervisor",
    "investigator",
    "case_worker",
    "foster_care_worker",
    "resource_family_worker",
    "supervisor",
    "office_manager",
    "partner_staff",
    "coalition_coordinator",
    "analyst",
    "administrator",
    "auditor",
]
KINDS = OrgUnit.KIND_ORDER
MODELS: dict[str, Any] = {"person": Person, "household": Household, "report": Report}
ACTIONS = {
    "person": ["person.view", "person.search", "person.update", "person.merge"],
    "household": ["person.view"],
    "report": ["report.view", "report.screen", "report.approve", "report.assign", "report.respond"],
}
ONE_RECORD_READ = {
    "person": lambda user, pk: selectors.person_get(user=user, person_id=pk),
    "household": lambda user, pk: selectors.household_get(user=user, household_id=pk),
    "report": lambda user, pk: intake_selectors.report_get(user=user, report_id=pk),
}


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    n_units = draw(st.integers(1, 7))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n_units)]
    n_users = draw(st.integers(1, 4))
    sizes = {"person": draw(st.integers(1, 6)), "household": draw(st.integers(0, 3))}
    sizes["report"] = draw(st.integers(0, 4))
    roles = [
        draw(st.lists(st.tuples(st.sampled_from(ROLES), st.integers(0, n_units - 1)), max_size=3))
        for _ in range(n_users)
    ]
    records = {
        kind: draw(
            st.lists(st.tuples(st.integers(0, n_units - 1), st.booleans()), min_size=n, max_size=n)
        )
        for kind, n in sizes.items()
    }
    kinds_present = [kind for kind, n in sizes.items() if n]

    @st.composite
    def ref(draw_ref: Any) -> tuple[str, int]:
        kind = draw_ref(st.sampled_from(kinds_present))
        return kind, draw_ref(st.integers(0, sizes[kind] - 1))

    user = st.integers(0, n_users - 1)
    participants: list[tuple[int, int, str]] = []
    if sizes["report"]:
        participants = draw(
            st.lists(
                st.tuples(
                    st.integers(0, sizes["report"] - 1),
                    st.integers(0, sizes["person"] - 1),
                    st.sampled_from(["alleged_victim", "other_child", "caregiver"]),
                ),
                max_size=6,
                unique_by=lambda t: t,
            )
        )
    return {
        "parents": parents,
        "roles": roles,
        "active": draw(st.lists(st.booleans(), min_size=n_users, max_size=n_users)),
        "records": records,
        "participants": participants,
        "supervision": draw(st.lists(st.tuples(user, user), max_size=3)),
        "assigned": draw(st.lists(st.tuples(user, ref(), st.booleans()), max_size=5)),
        "grants": draw(st.lists(st.tuples(user, ref()), max_size=4)),
        "glass": draw(st.lists(st.tuples(user, ref(), st.booleans()), max_size=3)),
    }


def _make_record(kind: str, i: int, unit: OrgUnit, restricted: bool, now: Any) -> Any:
    if kind == "person":
        return PersonFactory(
            org_unit=unit, restricted=restricted, last_name="Same", first_name="Pat"
        )
    if kind == "household":
        return Household.objects.create(org_unit=unit, restricted=restricted, label=f"H{i}")
    return Report.objects.create(
        org_unit=unit,
        restricted=restricted,
        number=f"PROP-{i}",
        received_at=now - timedelta(days=1),
        channel="phone",
        narrative="Synthetic.",
    )


def _build(world: dict[str, Any]) -> tuple[list[OrgUnit], list[Any], dict[str, list[Any]]]:
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
    now = timezone.now()
    records = {
        kind: [_make_record(kind, i, units[u], r, now) for i, (u, r) in enumerate(rows)]
        for kind, rows in world["records"].items()
    }
    for r, p, role in world["participants"]:
        ReportPerson.objects.create(
            report=records["report"][r], person=records["person"][p], role=role
        )
    for a, b in world["supervision"]:
        if a != b:
            Supervision.objects.get_or_create(supervisor=users[a], supervisee=users[b])
    for u, (kind, i), ended in world["assigned"]:
        Assignment.objects.create(
            user=users[u],
            record_type=kind,
            record_id=records[kind][i].pk,
            ended_at=now if ended else None,
        )
    for u, (kind, i) in world["grants"]:
        AccessGrant.objects.create(
            user=users[u],
            record_type=kind,
            record_id=records[kind][i].pk,
            granted_by=users[0],
            reason="test",
        )
    for u, (kind, i), live in world["glass"]:
        BreakGlass.objects.create(
            user=users[u],
            record_type=kind,
            record_id=records[kind][i].pk,
            reason="test reason",
            expires_at=now + timedelta(hours=1 if live else -1),
        )
    return units, users, records


def _oracle(
    world: dict[str, Any],
    units: list[OrgUnit],
    records: dict[str, list[Any]],
    user_index: int,
    kind: str,
    action: str,
) -> set[Any]:
    """The rule, by hand: which records of ``kind`` the user may do ``action`` on."""
    perms = world["perms"]
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
    for index, (u, restricted) in enumerate(world["records"][kind]):
        here = (kind, index)
        if restricted and (user_index, here) not in world["grants"]:
            continue
        in_scope = any(units[u].path.startswith(path) for path in scopes)
        assigned = any(
            ui == user_index and ref == here and not ended for ui, ref, ended in world["assigned"]
        )
        via_team = any(
            ui in supervisees and ref == here and not ended for ui, ref, ended in world["assigned"]
        )
        glass = any(ui == user_index and ref == here and live for ui, ref, live in world["glass"])
        if in_scope or assigned or via_team or glass:
            allowed.add(records[kind][index].pk)
    return allowed


def test_the_generated_users_can_hold_every_role_of_the_policy(db: Any) -> None:
    roles_sync_from_policy()
    assert set(ROLES) == set(Role.objects.values_list("code", flat=True))


@settings(
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_selector_returns_a_record_outside_the_rule(db: Any, world: dict[str, Any]) -> None:
    with transaction.atomic():
        roles_sync_from_policy()
        world["perms"] = {r.code: set(r.permissions) for r in Role.objects.all()}
        units, users, records = _build(world)
        for i, user in enumerate(users):
            user.refresh_from_db()

            def rule(kind: str, action: str, i: int = i) -> set[Any]:
                return _oracle(world, units, records, i, kind, action)

            for kind, actions in ACTIONS.items():
                model = MODELS[kind]
                for action in actions:
                    expected = rule(kind, action)
                    query = set(
                        access.visible(user, action, model.objects.all()).values_list(
                            "pk", flat=True
                        )
                    )
                    assert query == expected, (kind, action, i)
                    one_by_one = {
                        r.pk for r in records[kind] if access.can_access(user, r, action).allowed
                    }
                    assert one_by_one == expected, (kind, action, i)
                # The one-record read opens exactly what the rule allows, and 404s the rest.
                viewable = rule(kind, ACTIONS[kind][0])
                for record in records[kind]:
                    try:
                        ONE_RECORD_READ[kind](user, record.pk)
                        opened = True
                    except AccessDenied:
                        opened = False
                    assert opened == (record.pk in viewable), (kind, i)

            if access.has_permission(user, "person.search"):
                found = selectors.person_search(
                    user=user, query=selectors.SearchQuery(name="Pat Same")
                )
                assert {r.person.pk for r in found} <= rule("person", "person.search")

            reports = rule("report", "report.view")
            listed = {r.pk for r in intake_selectors.report_list(user=user)}
            assert listed == reports, i
            queue = intake_selectors.supervisor_queue(user=user)
            for row in queue.awaiting_approval + queue.unassigned + queue.due:
                assert row.pk in reports
            person_ids = [p.pk for p in records["person"]]
            for history in intake_selectors.prior_history(user=user, person_ids=person_ids):
                assert history.person.pk in rule("person", "person.view")
                assert {r.pk for r in history.reports} <= reports
            related = intake_selectors.related_reports(user=user, person_ids=person_ids)
            assert {r.pk for r in related} <= reports
        transaction.set_rollback(True)
