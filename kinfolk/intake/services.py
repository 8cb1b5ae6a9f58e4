"""Every write of the hotline: file, screen, approve or send back, assign, record contact.

Each is one transaction, checks who may do it, moves the report only along the transition
table in ``models.TRANSITIONS``, and writes a lifecycle event and an audit row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kinfolk.core import access, audit
from kinfolk.core.errors import (
    AccessDenied,
    ApplicationError,
    Conflict,
    Forbidden,
    ValidationFailed,
)
from kinfolk.core.models import Assignment, OrgUnit, User
from kinfolk.core.prefetch import set_prefetched
from kinfolk.intake.models import (
    TAKES_ADDITIONAL,
    TRANSITIONS,
    Allegation,
    ChildContact,
    CommunityHandoff,
    Report,
    ReportDraft,
    Reporter,
    ReportEvent,
    ReportPerson,
)
from kinfolk.intake.policy import Facts, intake_policy
from kinfolk.people import matchindex
from kinfolk.people import selectors as people_selectors
from kinfolk.people import services as people_services
from kinfolk.people.models import Household, HouseholdMember, Person

CONFIRMED_NEW_REASON = "Confirmed as a new person while filing a hotline report."


class TransitionNotAllowed(ApplicationError):
    status = 409
    code = "transition_not_allowed"


def report_move(*, report: Report, move: str, user: User | None, note: str = "") -> Report:
    """Move a report along the lifecycle table; a move it does not list raises."""
    _move(report=report, move=move, user=user, note=note)
    return report


def _step(report: Report, move: str) -> str:
    """Set the status ``move`` leads to from the report's, as the table says (else raise);
    returns the status it had."""
    targets = TRANSITIONS.get(move, {})
    if report.status not in targets:
        raise TransitionNotAllowed(
            f"A report that is {report.get_status_display().lower()} does not allow "
            f"'{move.replace('_', ' ')}'.",
            extra={"status": report.status, "move": move},
        )
    previous = report.status
    report.status = targets[previous]
    return previous


def _event(
    *, report: Report, move: str, previous: str, user: User | None, note: str = ""
) -> ReportEvent:
    return ReportEvent.objects.create(
        report=report,
        move=move,
        from_status=previous,
        to_status=report.status,
        by=user,
        note=note[:2000],
    )


def _move(*, report: Report, move: str, user: User | None, note: str = "") -> ReportEvent:
    previous = _step(report, move)
    return _event(report=report, move=move, previous=previous, user=user, note=note)


# --- Filing ---------------------------------------------------------------------------------


@dataclass
class PersonEntry:
    """A person named in a call: an existing registry record, or a new one."""

    role: str
    person_id: Any = None
    values: Mapping[str, Any] | None = None
    confirmed_new: bool = False
    ref: str = ""  # how allegations in the same submission point at this entry


@dataclass
class _Filing:
    """What the people of one filing share: the user's search scope, read once for them all
    (a filing changes none of the user's assignments, supervision or grants)."""

    user: User
    org_unit: OrgUnit
    _scope: Q | None = None

    @property
    def scope(self) -> Q:
        if self._scope is None:
            self._scope = people_selectors.search_scope(self.user)
        return self._scope


def _resolve(filing: _Filing, entry: PersonEntry, index: int) -> Person:
    """The registry record of a person named in the call: the one picked (if the user may see
    it), or a new one, created only after searching the registry for them.

    Creates without savepoints of its own: it runs inside ``report_file``'s transaction
    block, which any error here leaves as a whole, so nothing would be rolled back to them.
    """
    user, org_unit = filing.user, filing.org_unit
    where = f"people[{index}]"
    if entry.person_id:
        return access.referenced_record(
            user, Person, entry.person_id, "person.view", field=f"{where}.person", what="person"
        )
    values = dict(entry.values or {})
    if not values.get("first_name") or not values.get("last_name"):
        raise ValidationFailed(
            "A new person needs a first and last name.",
            fields={f"{where}.last_name": ["Required for a new person."]},
        )
    # Search first, always: a child must have one record across every report. The same
    # check, threshold (policy ``matching.possible_duplicate``) and scoring as person
    # creation in the registry.
    likely = people_selectors.person_possible_duplicates(
        user=user, values=values, limit=5, scope=filing.scope
    )
    if likely and not entry.confirmed_new:
        raise ValidationFailed(
            "This person may already be in the registry. Pick the existing record, or "
            "confirm they are someone else.",
            fields={f"{where}.confirmed_new": ["Possible duplicate: confirm or pick."]},
            code="possible_duplicate",
            extra={
                "candidates": {
                    where: [
                        {"id": str(r.person.pk), "score": r.score, "reasons": r.reasons}
                        for r in likely
                    ]
                }
            },
        )
    person = people_services.person_create(
        user=user, org_unit=org_unit, values=values, savepoint=False
    )
    if entry.confirmed_new:
        audit.record(
            user=user,
            action="create",
            record_type="person",
            record_id=person.pk,
            detail={"confirmed_not_duplicate": True},
        )
        # Each candidate the worker set aside is recorded as a different person, as in the
        # registry, so de-duplication does not queue the pair again.
        for candidate in likely:
            people_services.duplicate_confirm_different(
                user=user,
                person_id=person.pk,
                other_id=candidate.person.pk,
                reason=CONFIRMED_NEW_REASON,
                probability=candidate.score,
                reasons=candidate.reasons,
                savepoint=False,
            )
    return person


def _check_when(
    received_at: datetime, allegations: Sequence[Mapping[str, Any]], now: datetime | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    now = now or timezone.now()
    if received_at > now:
        errors["received_at"] = ["Cannot be in the future."]
    # "Today" is the agency's date: at 9 pm in Chicago it is already tomorrow in UTC.
    today = timezone.localdate(now, intake_policy().zone)
    for i, a in enumerate(allegations):
        incident = a.get("incident_date")
        if isinstance(incident, date) and incident > today:
            errors[f"allegations[{i}].incident_date"] = ["Cannot be in the future."]
    if errors:
        raise ValidationFailed("Some dates are not valid.", fields=errors)


def _shared_household(user: User, people: Sequence[Person]) -> Household | None:
    """The one current household every named person belongs to, if there is exactly one."""
    if not people:
        return None
    households: dict[Any, set[Any]] = {person.pk: set() for person in people}
    for person_id, household_id in HouseholdMember.objects.filter(
        person__in=list(households), left__isnull=True
    ).values_list("person_id", "household_id"):
        households[person_id].add(household_id)
    shared = set.intersection(*households.values())
    if not shared:
        return None
    candidates = list(
        access.visible(user, "person.view", Household.objects.filter(pk__in=shared))[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _report_number(received_at: datetime) -> str:
    local = received_at.astimezone(intake_policy().zone)
    return f"{local:%y%m%d}-{uuid.uuid4().hex[:6].upper()}"


def responsible_office(
    *, user: User, people: Sequence[PersonEntry], household_id: Any = None
) -> OrgUnit | None:
    """The office that answers for the family: where the children named from the registry
    (then the other people, then the household) are kept, narrowed to an office.

    A record kept at county level gives that county's office when it has exactly one.
    None when the call names nobody the registry knows (the worker then chooses).
    """
    known = sorted(
        (e for e in people if e.person_id),
        key=lambda e: e.role != ReportPerson.Role.ALLEGED_VICTIM,
    )
    units: list[OrgUnit] = []
    for entry in known:
        try:
            person = access.access_record_by_id(
                user, Person, entry.person_id, "person.view", audit_view=False
            )
        except AccessDenied:
            continue  # reported as an unknown person when the entry is resolved
        units.append(person.org_unit)
    if household_id:
        try:
            units.append(
                access.access_record_by_id(
                    user, Household, household_id, "person.view", audit_view=False
                ).org_unit
            )
        except AccessDenied:
            pass
    for unit in units:
        if unit.kind == OrgUnit.Kind.OFFICE:
            return unit
        offices = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.OFFICE, path__startswith=unit.path))
        if unit.kind == OrgUnit.Kind.COUNTY and len(offices) == 1:
            return offices[0]
    return None


def report_file(
    *,
    user: User,
    org_unit: OrgUnit | None,
    received_at: datetime,
    channel: str,
    narrative: str,
    reporter: Mapping[str, Any],
    people: Sequence[PersonEntry],
    allegations: Sequence[Mapping[str, Any]],
    location: str = "",
    worker_safety: Mapping[str, Any] | None = None,
    linked_to: Any = None,
    household_id: Any = None,
    draft_key: str = "",
    savepoint: bool = True,
) -> Report:
    """File a report. The same ``draft_key`` filed again (a double click, a browser re-POST)
    returns the report the first submission filed instead of filing a second one.

    One transaction block. ``savepoint=False`` is for a caller whose own block ends on any
    error raised here (the API, whose request then rolls back), never one that catches the
    error and goes on writing in the same transaction (the intake page shows the errors).
    """
    with transaction.atomic(savepoint=savepoint):
        access.require_permission(user, "report.create")
        if draft_key:
            already = Report.objects.filter(created_by=user, filing_key=draft_key).first()
            if already is not None:
                return already
        policy = intake_policy()
        errors: dict[str, list[str]] = {}
        if channel not in policy.codes["channels"]:
            errors["channel"] = ["Unknown channel."]
        if str(reporter.get("source", "")) not in policy.codes["reporter_sources"]:
            errors["reporter.source"] = ["Unknown report source code."]
        if not any(p.role == ReportPerson.Role.ALLEGED_VICTIM for p in people):
            errors["people"] = ["A report names at least one child (an alleged victim)."]
        if not allegations:
            errors["allegations"] = ["Record at least one allegation."]
        refs = {p.ref for p in people if p.ref}
        victims = {p.ref for p in people if p.ref and p.role == ReportPerson.Role.ALLEGED_VICTIM}
        for i, a in enumerate(allegations):
            if a.get("child") not in victims:
                errors[f"allegations[{i}].child"] = [
                    "Must point at an alleged victim in this report."
                ]
            if a.get("perpetrator") and a["perpetrator"] not in refs:
                errors[f"allegations[{i}].perpetrator"] = ["Must point at a person in this report."]
            if str(a.get("maltreatment_type", "")) not in policy.codes["maltreatment_types"]:
                errors[f"allegations[{i}].maltreatment_type"] = ["Unknown maltreatment type."]
            if (
                a.get("perpetrator_relationship", "other")
                not in policy.codes["perpetrator_relationships"]
            ):
                errors[f"allegations[{i}].perpetrator_relationship"] = ["Unknown relationship."]
        if len(refs) != len([p for p in people if p.ref]):
            errors["people"] = ["Each person's ref must be unique."]
        if org_unit is None:
            # By the family's county: the office their registry records are kept in.
            org_unit = responsible_office(user=user, people=people, household_id=household_id)
            if org_unit is None:
                errors["org_unit"] = [
                    "Choose the responsible office: nobody named is known to the registry yet."
                ]
        if errors:
            raise ValidationFailed("The report could not be filed.", fields=errors)
        assert org_unit is not None  # noqa: S101 - an error above otherwise
        _check_when(received_at, allegations)
        if not any(org_unit.path.startswith(p) for p in access.scope_paths(user, "report.create")):
            raise Forbidden("You cannot file reports for that office.")
        link = None
        if linked_to:
            link = access.referenced_record(
                user, Report, linked_to, "report.view", field="linked_to", what="report"
            )
            if link.status not in TAKES_ADDITIONAL:
                raise ValidationFailed(
                    "Only a screened-in report that is still open takes additional reports.",
                    fields={"linked_to": ["That report is not an open response."]},
                )
        household = None
        if household_id:
            household = access.referenced_record(
                user, Household, household_id, "person.view", field="household", what="household"
            )

        resolved: dict[str, Person] = {}
        report = Report(
            org_unit=org_unit,
            number=_report_number(received_at),
            status="draft",
            received_at=received_at,
            channel=channel,
            narrative=narrative,
            location=location,
            worker_safety=dict(worker_safety or {}),
            linked_to=link,
            household=household,
            filing_key=draft_key,
            created_by=user,
            updated_by=user,
        )
        # Written once, as filed: the move from draft is checked here and its event written
        # below, with the report.
        previous = _step(report, "file")
        named: list[Person] = []
        participants: dict[tuple[Any, str], ReportPerson] = {}
        filing = _Filing(user=user, org_unit=org_unit)
        try:
            # Only a form filed twice at once is caught below: its savepoint takes back the
            # people this submission created, with its report.
            with transaction.atomic(savepoint=bool(draft_key)):
                # The people created for this report are indexed for matching together, once.
                with matchindex.batched():
                    for index, entry in enumerate(people):
                        person = _resolve(filing, entry, index)
                        # The report is new: its only participants are the ones named here, once.
                        participants.setdefault(
                            (person.pk, entry.role),
                            ReportPerson(report=report, person=person, role=entry.role),
                        )
                        named.append(person)
                        if entry.ref:
                            resolved[entry.ref] = person
                if household is None and all(entry.person_id for entry in people):
                    # A person created just now belongs to no household yet, so only a call
                    # naming registry records alone can share one.
                    report.household = _shared_household(user, named)
                report.save(force_insert=True)
        except IntegrityError:
            # The same form, submitted twice at once: the first submission's report stands.
            if draft_key:
                already = Report.objects.filter(created_by=user, filing_key=draft_key).first()
                if already is not None:
                    return already
            raise
        ReportPerson.objects.bulk_create(participants.values())
        written = Allegation.objects.bulk_create(
            Allegation(
                report=report,
                child=resolved[a["child"]],
                perpetrator=resolved.get(a.get("perpetrator") or ""),
                perpetrator_relationship=a.get("perpetrator_relationship", "other"),
                maltreatment_type=str(a["maltreatment_type"]),
                incident_date=a.get("incident_date"),
                incident_date_approximate=bool(a.get("incident_date_approximate")),
            )
            for a in allegations
        )
        Reporter.objects.create(
            report=report,
            source=str(reporter["source"]),
            anonymous=bool(reporter.get("anonymous")),
            name="" if reporter.get("anonymous") else reporter.get("name", ""),
            phone="" if reporter.get("anonymous") else reporter.get("phone", ""),
            email="" if reporter.get("anonymous") else reporter.get("email", ""),
            organisation=reporter.get("organisation", ""),
            created_by=user,
            updated_by=user,
        )
        event = _event(report=report, move="file", previous=previous, user=user)
        if link is not None:
            _add_to_open_report(report=report, target=link, user=user)
        if draft_key:
            ReportDraft.objects.filter(user=user, key=draft_key).delete()
        # Reporter identity and narrative never go into the audit row: IDs and counts only.
        audit.record(
            user=user,
            action="create",
            record_type="report",
            record_id=report.pk,
            detail={
                "number": report.number,
                "children": len(victims),
                "people": len(people),
                "allegations": len(allegations),
                "linked_to": str(link.pk) if link else None,
            },
        )
        if link is None:
            # Everything the new report shows is in hand: attached, the caller need not read it
            # back. (One added to an open report has moved on since: that is read back.)
            set_prefetched(report, "participants", list(participants.values()))
            set_prefetched(report, "allegations", written)
            set_prefetched(report, "contacts", [])
            set_prefetched(report, "events", [event])
        return report


def _add_to_open_report(*, report: Report, target: Report, user: User) -> None:
    """The call joins the open response as an additional report instead of a new one.

    It is kept as its own report (its number, reporter, allegations), but is not screened
    again: its people join the open report, so a child not named before gets a first-contact
    clock there, and the worker already responding sees the new allegations on that page.
    """
    target = Report.objects.select_for_update().get(pk=target.pk)
    for participant in report.participants.all():
        ReportPerson.objects.get_or_create(
            report=target, person_id=participant.person_id, role=participant.role
        )
    report_move(report=report, move="add_to", user=user, note=f"to {target.number}")
    report.save(update_fields=["status"])
    _save(
        target,
        user,
        fields=["additional_reports", "participants"],
        detail={"additional_report": str(report.pk)},
    )


# --- Screening and approval -----------------------------------------------------------------


def _youngest_age(report: Report) -> int | None:
    today = report.received_at.astimezone(intake_policy().zone).date()
    ages = [
        p.person.age_on(today)
        for p in report.participants.select_related("person")
        if p.role == ReportPerson.Role.ALLEGED_VICTIM
    ]
    known = [a for a in ages if a is not None]
    return min(known) if known else None


def report_facts(report: Report) -> Facts:
    allegations = list(report.allegations.all())
    return Facts(
        maltreatment=frozenset(a.maltreatment_type for a in allegations),
        youngest_age=_youngest_age(report),
        perpetrators=frozenset(a.perpetrator_relationship for a in allegations),
        serious_injury=report.serious_injury,
        safety_threat=report.safety_threat,
        low_risk=report.low_risk,
    )


def _save(report: Report, user: User, *, fields: list[str], detail: dict[str, Any]) -> Report:
    """Bump the version, save and audit one change to a report (IDs and codes only)."""
    report.version += 1
    report.updated_by, report.updated_at = user, timezone.now()
    report.save()
    audit.record(
        user=user,
        action="update",
        record_type="report",
        record_id=report.pk,
        fields=fields,
        detail=detail,
    )
    return report


def _for_action(user: User, report_id: Any, action: str) -> Report:
    access.require_permission(user, action)
    return access.access_record_by_id(
        user, Report, report_id, action, audit_view=False, for_update=True
    )


@transaction.atomic
def report_screen(
    *,
    user: User,
    report_id: Any,
    screen_in: bool,
    narrative: str,
    reason: str = "",
    serious_injury: bool = False,
    safety_threat: bool = False,
    low_risk: bool = False,
    track: str = "",
    priority: str = "",
    override_reason: str = "",
    information_referral: str = "",
) -> Report:
    report = _for_action(user, report_id, "report.screen")
    policy = intake_policy()
    errors: dict[str, list[str]] = {}
    if not narrative.strip():
        errors["narrative"] = ["Explain the screening decision."]
    if not screen_in and reason not in policy.codes["screen_out_reasons"]:
        errors["reason"] = ["Choose a screen-out reason."]
    if track and track not in policy.codes["tracks"]:
        errors["track"] = ["Unknown track."]
    if priority and priority not in policy.priorities:
        errors["priority"] = ["Unknown priority."]
    if errors:
        raise ValidationFailed("The screening decision is incomplete.", fields=errors)
    report.serious_injury, report.safety_threat, report.low_risk = (
        serious_injury,
        safety_threat,
        low_risk,
    )
    report.screening_narrative = narrative
    report.screened_by, report.screened_at = user, timezone.now()
    report.information_referral = information_referral
    if screen_in:
        decision = policy.decide(report_facts(report))
        chosen_track = track or decision.track
        chosen_priority = priority or decision.priority
        overridden = (chosen_track, chosen_priority) != (decision.track, decision.priority)
        if overridden and len(override_reason.strip()) < 10:
            raise ValidationFailed(
                "Changing the track or priority the rules chose needs a reason.",
                fields={"override_reason": ["Give a reason (at least 10 characters)."]},
            )
        report.track, report.priority = chosen_track, chosen_priority
        report.rule, report.rule_why = decision.rule, decision.why
        report.override_reason = override_reason.strip() if overridden else ""
        report.screening_reason = ""
        report.response_due_at = policy.response_due(report.received_at, chosen_priority)
        report_move(report=report, move="screen_in", user=user, note=narrative)
    else:
        report.track = report.priority = report.rule = report.rule_why = ""
        report.override_reason = ""
        report.screening_reason = reason
        report.response_due_at = None
        report_move(report=report, move="screen_out", user=user, note=narrative)
    _save(
        report,
        user,
        fields=["status", "track", "priority", "screening_reason"],
        detail={
            "status": report.status,
            "track": report.track,
            "priority": report.priority,
            "rule": report.rule,
            "override": bool(report.override_reason),
        },
    )
    return report


@transaction.atomic
def report_approve(*, user: User, report_id: Any, note: str = "") -> Report:
    report = _for_action(user, report_id, "report.approve")
    if report.screened_by_id == user.pk:
        raise Forbidden("A supervisor other than the screener approves the decision.")
    report_move(report=report, move="approve", user=user, note=note)
    report.approved_by, report.approved_at = user, timezone.now()
    _save(report, user, fields=["status"], detail={"status": report.status, "move": "approve"})
    if report.track == "community_referral":
        CommunityHandoff.objects.get_or_create(report=report)
    return report


@transaction.atomic
def report_send_back(*, user: User, report_id: Any, reason: str) -> Report:
    report = _for_action(user, report_id, "report.approve")
    if len(reason.strip()) < 5:
        raise ValidationFailed("Say what needs another look.", fields={"reason": ["Required."]})
    report_move(report=report, move="send_back", user=user, note=reason)
    report.sent_back_reason = reason.strip()
    _save(report, user, fields=["status"], detail={"status": report.status, "move": "send_back"})
    return report


@transaction.atomic
def report_assign(*, user: User, report_id: Any, assignee: User, expected_version: int) -> Report:
    """Give the report to a worker. Two supervisors at once: one wins, the other is told who."""
    report = _for_action(user, report_id, "report.assign")
    if report.version != expected_version:
        owner = report.assigned_to
        raise Conflict(
            f"Report {report.number} was changed meanwhile"
            + (f": it is now assigned to {owner}." if owner else "."),
            extra={
                "current_version": report.version,
                "assigned_to": owner.username if owner else None,
            },
        )
    if not report.track:
        raise TransitionNotAllowed("Only a screened-in report is assigned.")
    # Only an investigator / family-assessment worker (the role with report.respond) who
    # covers the report's office takes it; a foster-care or case worker does not.
    if not any(
        report.org_unit.path.startswith(p) for p in access.scope_paths(assignee, "report.respond")
    ):
        raise ValidationFailed(
            "That worker does not respond to reports in this office.",
            fields={"assignee": ["Not an investigator or family-assessment worker here."]},
        )
    report_move(report=report, move="assign", user=user, note=f"to {assignee.username}")
    Assignment.objects.filter(
        record_type="report", record_id=report.pk, ended_at__isnull=True
    ).update(ended_at=timezone.now())
    Assignment.objects.create(user=assignee, record_type="report", record_id=report.pk)
    report.assigned_to, report.assigned_at = assignee, timezone.now()
    _save(report, user, fields=["assigned_to", "status"], detail={"assignee": assignee.pk})
    return report


@transaction.atomic
def report_record_contact(
    *,
    user: User,
    report_id: Any,
    child_id: Any,
    contact_at: datetime,
    location: str,
    made_by: User | None = None,
) -> ChildContact:
    """Record the first face-to-face contact with a child; ``made_by`` is who met the child
    when that was not the person typing it in."""
    report = _for_action(user, report_id, "case.manage")
    if report.status not in {"assigned", "responded"}:
        raise TransitionNotAllowed("Contacts are recorded on an assigned report.")
    errors: dict[str, list[str]] = {}
    children = {
        str(p.person_id)
        for p in report.participants.all()
        if p.role in {ReportPerson.Role.ALLEGED_VICTIM, ReportPerson.Role.OTHER_CHILD}
    }
    if str(child_id) not in children:
        errors["child"] = ["Not a child in this report."]
    if contact_at > timezone.now():
        errors["contact_at"] = ["Cannot be in the future."]
    elif contact_at < report.received_at:
        errors["contact_at"] = ["Cannot be before the report was received."]
    if not location.strip():
        errors["location"] = ["Where did you see the child?"]
    if made_by is not None and not (
        made_by.is_active
        and any(
            report.org_unit.path.startswith(p) for p in access.scope_paths(made_by, "case.manage")
        )
    ):
        errors["made_by"] = ["Not a worker for this office."]
    if errors:
        raise ValidationFailed("The contact could not be recorded.", fields=errors)
    contact = ChildContact.objects.create(
        report=report,
        child_id=child_id,
        contact_at=contact_at,
        location=location.strip()[:200],
        made_by=made_by if made_by is not None and made_by.pk != user.pk else None,
        recorded_by=user,
    )
    seen = set(report.contacts.values_list("child_id", flat=True))
    victims = {
        p.person_id for p in report.participants.all() if p.role == ReportPerson.Role.ALLEGED_VICTIM
    }
    if report.status == "assigned" and victims <= seen:
        report_move(report=report, move="respond", user=user, note="every alleged victim seen")
    _save(
        report,
        user,
        fields=["contacts"],
        detail={"child": str(child_id), "made_by": made_by.pk if made_by else None},
    )
    return contact


@transaction.atomic
def report_close(*, user: User, report_id: Any, summary: str) -> Report:
    """Close a responded report: its assigned worker, or a supervisor over its office."""
    access.require_permission(user, "report.view")
    report = access.access_record_by_id(
        user, Report, report_id, "report.view", audit_view=False, for_update=True
    )
    is_assignee = report.assigned_to_id == user.pk and access.has_permission(user, "case.manage")
    is_supervisor = access.can_access(user, report, "report.assign").allowed
    if not (is_assignee or is_supervisor):
        raise Forbidden("Only the assigned worker or a supervisor closes this report.")
    if len(summary.strip()) < 10:
        raise ValidationFailed(
            "Say how the report ends.",
            fields={"summary": ["Give a closing summary (at least 10 characters)."]},
        )
    report_move(report=report, move="close", user=user, note=summary.strip())
    report.closing_summary = summary.strip()
    _save(report, user, fields=["status", "closing_summary"], detail={"status": report.status})
    return report


# --- Drafts ---------------------------------------------------------------------------------


@transaction.atomic
def draft_save(*, user: User, key: str, data: Mapping[str, Any]) -> ReportDraft:
    access.require_permission(user, "report.create")
    draft, _ = ReportDraft.objects.update_or_create(
        user=user, key=key, defaults={"data": dict(data), "updated_at": timezone.now()}
    )
    return draft
