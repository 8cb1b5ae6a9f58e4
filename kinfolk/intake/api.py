"""Hotline API: parse, call a service or selector, render."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kinfolk.core.api import (
    ApiView,
    SafeCharField,
    SafeSlugRelatedField,
    StrictSerializer,
    actor,
    etag,
    expected_version,
    unstorable_json,
    validated,
)
from kinfolk.core.errors import NotFound
from kinfolk.core.models import OrgUnit, User
from kinfolk.intake import selectors, services
from kinfolk.intake.models import Report, ReportPerson, Status
from kinfolk.intake.policy import intake_policy
from kinfolk.people.api import ERROR, ERRORS, IDEMPOTENCY_KEY, IF_MATCH, OrgUnitRef
from kinfolk.people.models import Sex

_codes = intake_policy().codes
_DRAFT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --- Input ----------------------------------------------------------------------------------


class ReporterIn(StrictSerializer):
    source = serializers.ChoiceField(choices=list(_codes["reporter_sources"].items()))  # type: ignore[assignment]
    anonymous = serializers.BooleanField(required=False, default=False)
    name = SafeCharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        r"^\+?[0-9 ().-]{0,20}$", required=False, allow_blank=True, default=""
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    organisation = SafeCharField(max_length=200, required=False, allow_blank=True, default="")


class ReportPersonIn(StrictSerializer):
    ref = serializers.RegexField(r"^[A-Za-z0-9_-]{1,20}$")
    role = serializers.ChoiceField(choices=ReportPerson.Role.choices)
    person = serializers.UUIDField(required=False, allow_null=True, default=None)
    first_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    middle_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, default=Sex.UNKNOWN)
    confirmed_new = serializers.BooleanField(required=False, default=False)


class AllegationIn(StrictSerializer):
    child = serializers.RegexField(r"^[A-Za-z0-9_-]{1,20}$")
    perpetrator = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,20}$", required=False, allow_blank=True, allow_null=True, default=None
    )
    perpetrator_relationship = serializers.ChoiceField(
        choices=list(_codes["perpetrator_relationships"].items()), required=False, default="other"
    )
    maltreatment_type = serializers.ChoiceField(choices=list(_codes["maltreatment_types"].items()))
    incident_date = serializers.DateField(required=False, allow_null=True, default=None)
    incident_date_approximate = serializers.BooleanField(required=False, default=False)


class WorkerSafetyIn(StrictSerializer):
    dangerous_animals = serializers.BooleanField(required=False, default=False)
    weapons = serializers.BooleanField(required=False, default=False)
    threats = serializers.BooleanField(required=False, default=False)
    notes = SafeCharField(max_length=1000, required=False, allow_blank=True, default="")


class ReportFileIn(StrictSerializer):
    # Omitted: the office of the family's registry records (services.responsible_office).
    org_unit = SafeSlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), required=False, default=None
    )
    received_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=list(_codes["channels"].items()))
    narrative = SafeCharField(max_length=20000)
    location = SafeCharField(max_length=300, required=False, allow_blank=True, default="")
    reporter = ReporterIn()
    people = ReportPersonIn(many=True, max_length=30)  # type: ignore[call-arg]
    allegations = AllegationIn(many=True, max_length=60)  # type: ignore[call-arg]
    worker_safety = WorkerSafetyIn(required=False)
    linked_to = serializers.UUIDField(required=False, allow_null=True, default=None)
    household = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A registry household; when left out, the one every named person shares.",
    )
    draft_key = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$", required=False, allow_blank=True, default=""
    )


class ScreenIn(StrictSerializer):
    decision = serializers.ChoiceField(choices=[("in", "Screen in"), ("out", "Screen out")])
    narrative = SafeCharField(max_length=5000)
    reason = serializers.ChoiceField(
        choices=list(_codes["screen_out_reasons"].items()),
        required=False,
        allow_blank=True,
        default="",
    )
    serious_injury = serializers.BooleanField(required=False, default=False)
    safety_threat = serializers.BooleanField(required=False, default=False)
    low_risk = serializers.BooleanField(required=False, default=False)
    track = serializers.ChoiceField(
        choices=list(_codes["tracks"].items()), required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(
        choices=sorted(intake_policy().priorities), required=False, allow_blank=True, default=""
    )
    override_reason = SafeCharField(max_length=2000, required=False, allow_blank=True, default="")
    information_referral = SafeCharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class NoteIn(StrictSerializer):
    note = SafeCharField(max_length=2000, required=False, allow_blank=True, default="")


class SendBackIn(StrictSerializer):
    reason = SafeCharField(max_length=2000)


class AssignIn(StrictSerializer):
    assignee = SafeSlugRelatedField(slug_field="username", queryset=User.objects.all())


class ContactIn(StrictSerializer):
    child = serializers.UUIDField()
    contact_at = serializers.DateTimeField()
    location = SafeCharField(max_length=200)
    made_by = SafeSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Who met the child, when not the caller.",
    )


class CloseIn(StrictSerializer):
    summary = SafeCharField(max_length=5000)


class ReportFilterIn(StrictSerializer):
    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        allow_blank=True,
        default="",
    )
    office = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,32}$", required=False, allow_blank=True, default=""
    )
    due_before = serializers.DateTimeField(required=False, allow_null=True, default=None)
    mine = serializers.BooleanField(required=False, default=False)
    open = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, default=0)


class PriorHistoryIn(StrictSerializer):
    person = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=30)
    household = serializers.UUIDField(required=False, allow_null=True, default=None)


class DraftIn(StrictSerializer):
    data = serializers.DictField()  # type: ignore[assignment]

    def validate_data(self, value: dict[str, Any]) -> dict[str, Any]:
        import json

        problem = unstorable_json(value)
        if problem:
            raise serializers.ValidationError(problem)
        if len(json.dumps(value)) > 100_000:
            raise serializers.ValidationError("A draft holds at most 100 kB.")
        return value


# --- Output ---------------------------------------------------------------------------------


class PersonBrief(serializers.Serializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


class ParticipantOut(serializers.Serializer):
    role = serializers.CharField()
    person = PersonBrief()


class AllegationOut(serializers.Serializer):
    child = serializers.UUIDField(source="child_id")
    perpetrator = serializers.UUIDField(source="perpetrator_id", allow_null=True)
    perpetrator_relationship = serializers.CharField()
    maltreatment_type = serializers.CharField()
    incident_date = serializers.DateField(allow_null=True)
    incident_date_approximate = serializers.BooleanField()
    finding = serializers.CharField()


class ContactOut(serializers.Serializer):
    child = serializers.UUIDField(source="child_id")
    contact_at = serializers.DateTimeField()
    location = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    made_by = serializers.SerializerMethodField()
    on_time = serializers.SerializerMethodField()

    def get_made_by(self, contact: Any) -> str:
        return (contact.made_by or contact.recorded_by).username

    def get_on_time(self, contact: Any) -> bool | None:
        """Within the report's response time (null when the report has no due time)."""
        due = contact.report.response_due_at
        return None if due is None else contact.contact_at <= due


class EventOut(serializers.Serializer):
    move = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    at = serializers.DateTimeField()
    note = serializers.CharField()


class ReporterOut(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]
    anonymous = serializers.BooleanField()
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    organisation = serializers.CharField()


class ReportOut(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    channel = serializers.CharField()
    narrative = serializers.CharField()
    location = serializers.CharField()
    org_unit = OrgUnitRef()
    worker_safety = serializers.DictField()
    people = ParticipantOut(many=True, source="participants.all")
    allegations = AllegationOut(many=True, source="allegations.all")
    screening_reason = serializers.CharField()
    screening_narrative = serializers.CharField()
    track = serializers.CharField()
    priority = serializers.CharField()
    rule = serializers.CharField()
    rule_why = serializers.CharField()
    override_reason = serializers.CharField()
    closing_summary = serializers.CharField()
    response_due_at = serializers.DateTimeField(allow_null=True)
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )
    linked_to = serializers.UUIDField(source="linked_to_id", allow_null=True)
    household = serializers.UUIDField(source="household_id", allow_null=True)
    contacts = ContactOut(many=True, source="contacts.all")
    events = EventOut(many=True, source="events.all")
    reporter = ReporterOut(required=False)

    def to_representation(self, instance: Report) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Reporter identity leaves the server only for those allowed to see it.
        if not selectors.can_see_reporter(self.context["user"], instance):
            data.pop("reporter", None)
        return data


class ReportRow(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    track = serializers.CharField()
    priority = serializers.CharField()
    office = serializers.CharField(source="org_unit.code")
    response_due_at = serializers.DateTimeField(allow_null=True)
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )


class QueueOut(serializers.Serializer):
    awaiting_approval = ReportRow(many=True)
    unassigned = ReportRow(many=True)
    due = ReportRow(many=True)


class HistoryRecordOut(serializers.Serializer):
    record_type = serializers.CharField(help_text="case, episode, ...")
    record_id = serializers.CharField()
    # "label" would shadow the serializer field's own attribute.
    summary = serializers.CharField(source="label")
    office = serializers.CharField()
    since = serializers.DateField(allow_null=True)
    detail = serializers.CharField()


class PersonHistoryOut(serializers.Serializer):
    person = serializers.UUIDField()
    reports = ReportRow(many=True)
    outside_scope = serializers.IntegerField(help_text="Prior reports the caller may not see.")
    open_records = HistoryRecordOut(
        many=True, help_text="Open cases and current placements the caller may see."
    )
    open_records_outside_scope = serializers.IntegerField(
        help_text="Open cases and placements the caller may not see."
    )


class PriorHistoryOut(serializers.Serializer):
    people = PersonHistoryOut(many=True)
    related_open_reports = ReportRow(many=True)


def _report_response(user: User, report_id: Any, status: int = 200) -> Response:
    return _show(user, selectors.report_get(user=user, report_id=report_id), status)


def _show(user: User, report: Report, status: int = 200) -> Response:
    return Response(
        ReportOut(report, context={"user": user}).data,
        status=status,
        headers={"ETag": etag(report.version)},
    )


# --- Views ----------------------------------------------------------------------------------


class ReportListApi(ApiView):
    @extend_schema(
        operation_id="reports_list",
        parameters=[ReportFilterIn],
        responses={200: ReportRow(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        data = validated(ReportFilterIn, request.query_params.dict())
        rows = selectors.report_list(
            user=actor(request),
            status=data["status"],
            office=data["office"],
            due_before=data["due_before"],
            assigned_to_me=data["mine"],
            open_only=data["open"],
        )[data["offset"] : data["offset"] + data["limit"]]
        return Response(ReportRow(rows, many=True).data)

    @extend_schema(
        operation_id="reports_file",
        parameters=[IDEMPOTENCY_KEY],
        request=ReportFileIn,
        responses={201: ReportOut, 422: OpenApiResponse(ERROR), **ERRORS},
        description="File a hotline report. Send an Idempotency-Key: a retried POST files once. "
        "People are existing registry records (``person``) or new ones (names); a new person "
        "who looks like an existing one needs ``confirmed_new``.",
    )
    def post(self, request: Request) -> Response:
        data = validated(ReportFileIn, request.data)
        user = actor(request)
        report = services.report_file(
            user=user,
            org_unit=data["org_unit"],
            received_at=data["received_at"],
            channel=data["channel"],
            narrative=data["narrative"],
            location=data["location"],
            reporter=data["reporter"],
            people=[
                services.PersonEntry(
                    role=p["role"],
                    person_id=p["person"],
                    ref=p["ref"],
                    confirmed_new=p["confirmed_new"],
                    values=None
                    if p["person"]
                    else {
                        k: p[k]
                        for k in ("first_name", "middle_name", "last_name", "date_of_birth", "sex")
                    },
                )
                for p in data["people"]
            ],
            allegations=data["allegations"],
            worker_safety=data.get("worker_safety"),
            linked_to=data["linked_to"],
            household_id=data["household"],
            draft_key=data["draft_key"],
            # An error ends the request, which rolls back: no savepoint to return to.
            savepoint=False,
        )
        return _show(user, selectors.report_filed(user=user, report=report), status=201)


class ReportDetailApi(ApiView):
    @extend_schema(operation_id="reports_read", responses={200: ReportOut, **ERRORS})
    def get(self, request: Request, report_id: str) -> Response:
        return _report_response(actor(request), report_id)


class ReportScreenApi(ApiView):
    @extend_schema(
        operation_id="reports_screen",
        request=ScreenIn,
        responses={200: ReportOut, 409: OpenApiResponse(ERROR), **ERRORS},
    )
    def post(self, request: Request, report_id: str) -> Response:
        data = validated(ScreenIn, request.data)
        user = actor(request)
        services.report_screen(
            user=user,
            report_id=report_id,
            screen_in=data["decision"] == "in",
            narrative=data["narrative"],
            reason=data["reason"],
            serious_injury=data["serious_injury"],
            safety_threat=data["safety_threat"],
            low_risk=data["low_risk"],
            track=data["track"],
            priority=data["priority"],
            override_reason=data["override_reason"],
            information_referral=data["information_referral"],
        )
        return _report_response(user, report_id)


class ReportApproveApi(ApiView):
    @extend_schema(
        operation_id="reports_approve",
        request=NoteIn,
        responses={200: ReportOut, 409: OpenApiResponse(ERROR), **ERRORS},
    )
    def post(self, request: Request, report_id: str) -> Response:
        data = validated(NoteIn, request.data)
        services.report_approve(user=actor(request), report_id=report_id, note=data["note"])
        return _report_response(actor(request), report_id)


class ReportSendBackApi(ApiView):
    @extend_schema(
        operation_id="reports_send_back",
        request=SendBackIn,
        responses={200: ReportOut, 409: OpenApiResponse(ERROR), **ERRORS},
    )
    def post(self, request: Request, report_id: str) -> Response:
        data = validated(SendBackIn, request.data)
        services.report_send_back(user=actor(request), report_id=report_id, reason=data["reason"])
        return _report_response(actor(request), report_id)


class ReportAssignApi(ApiView):
    @extend_schema(
        operation_id="reports_assign",
        parameters=[IF_MATCH],
        request=AssignIn,
        responses={
            200: ReportOut,
            412: OpenApiResponse(ERROR),
            428: OpenApiResponse(ERROR),
            409: OpenApiResponse(ERROR),
            **ERRORS,
        },
    )
    def post(self, request: Request, report_id: str) -> Response:
        version = expected_version(request)
        data = validated(AssignIn, request.data)
        services.report_assign(
            user=actor(request),
            report_id=report_id,
            assignee=data["assignee"],
            expected_version=version,
        )
        return _report_response(actor(request), report_id)


class ReportContactApi(ApiView):
    @extend_schema(
        operation_id="reports_contact",
        request=ContactIn,
        responses={201: ReportOut, 409: OpenApiResponse(ERROR), **ERRORS},
    )
    def post(self, request: Request, report_id: str) -> Response:
        data = validated(ContactIn, request.data)
        services.report_record_contact(
            user=actor(request),
            report_id=report_id,
            child_id=data["child"],
            contact_at=data["contact_at"],
            location=data["location"],
            made_by=data["made_by"],
        )
        return _report_response(actor(request), report_id, status=201)


class ReportCloseApi(ApiView):
    @extend_schema(
        operation_id="reports_close",
        request=CloseIn,
        responses={200: ReportOut, 409: OpenApiResponse(ERROR), **ERRORS},
        description="Close a responded report (its assigned worker or a supervisor), "
        "with a closing summary.",
    )
    def post(self, request: Request, report_id: str) -> Response:
        data = validated(CloseIn, request.data)
        services.report_close(user=actor(request), report_id=report_id, summary=data["summary"])
        return _report_response(actor(request), report_id)


class ReportQueueApi(ApiView):
    @extend_schema(operation_id="reports_queue", responses={200: QueueOut, **ERRORS})
    def get(self, request: Request) -> Response:
        queue = selectors.supervisor_queue(user=actor(request))
        return Response(
            {
                "awaiting_approval": ReportRow(queue.awaiting_approval, many=True).data,
                "unassigned": ReportRow(queue.unassigned, many=True).data,
                "due": ReportRow(queue.due, many=True).data,
            }
        )


class PriorHistoryApi(ApiView):
    @extend_schema(
        operation_id="reports_prior_history",
        parameters=[PriorHistoryIn],
        responses={200: PriorHistoryOut, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        data = validated(
            PriorHistoryIn,
            {
                "person": request.query_params.getlist("person"),
                "household": request.query_params.get("household") or None,
            },
        )
        user = actor(request)
        history = selectors.prior_history(user=user, person_ids=data["person"])
        related = selectors.related_reports(
            user=user, person_ids=data["person"], household_id=data["household"]
        )
        return Response(
            {
                "people": [
                    {
                        "person": str(h.person.pk),
                        "reports": ReportRow(h.reports, many=True).data,
                        "outside_scope": h.hidden,
                        "open_records": HistoryRecordOut(h.records, many=True).data,
                        "open_records_outside_scope": h.hidden_records,
                    }
                    for h in history
                ],
                "related_open_reports": ReportRow(related, many=True).data,
            }
        )


class DraftOut(serializers.Serializer):
    key = serializers.CharField()
    updated_at = serializers.DateTimeField()
    data = serializers.DictField()  # type: ignore[assignment]


class DraftListApi(ApiView):
    @extend_schema(
        operation_id="reports_draft_list",
        responses={200: DraftOut(many=True), **ERRORS},
        description="The caller's own unfinished drafts, latest first.",
    )
    def get(self, request: Request) -> Response:
        drafts = selectors.draft_list(user=actor(request))
        return Response(DraftOut(drafts, many=True).data)


class DraftApi(ApiView):
    @extend_schema(operation_id="reports_draft_read", responses={200: DraftIn, **ERRORS})
    def get(self, request: Request, key: str) -> Response:
        if not _DRAFT_KEY.match(key):
            raise NotFound()
        draft = selectors.draft_get(user=actor(request), key=key)
        if draft is None:
            raise NotFound()
        return Response({"data": draft.data, "updated_at": draft.updated_at})

    @extend_schema(operation_id="reports_draft_save", request=DraftIn, responses={200: DraftIn})
    def put(self, request: Request, key: str) -> Response:
        if not _DRAFT_KEY.match(key):
            raise NotFound()
        data = validated(DraftIn, request.data)
        draft = services.draft_save(user=actor(request), key=key, data=data["data"])
        return Response({"data": draft.data, "updated_at": draft.updated_at})
