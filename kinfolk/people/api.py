"""People API: parse, call a service or selector, render. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kinfolk.core import access
from kinfolk.core.api import (
    ApiView,
    SafeCharField,
    SafeSlugRelatedField,
    StrictSerializer,
    actor,
    etag,
    expected_version,
    validated,
)
from kinfolk.core.errors import Conflict, ValidationFailed
from kinfolk.core.models import OrgUnit
from kinfolk.people import selectors, services
from kinfolk.people.models import (
    DobPrecision,
    Hispanic,
    Identifier,
    Person,
    PersonName,
    Phone,
    RelationshipKind,
    Sex,
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag (version) you last read, e.g. "3".',
)
IF_MATCH_TO_REPLACE = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Needed to replace an identifier the person already has: the ETag you read.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string: a retried POST with the same key is not applied twice.",
)
ERROR = inline_serializer(
    "Error",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(), required=False),
    },
)
ERRORS = {
    400: OpenApiResponse(ERROR, description="Invalid input (each field named)."),
    403: OpenApiResponse(ERROR, description="Your role does not allow this."),
    404: OpenApiResponse(ERROR, description="Not found or outside your scope."),
}


def _past_date(value: Any) -> None:
    if value and value > timezone.localdate():
        raise serializers.ValidationError("Cannot be in the future.")


# --- Output ---------------------------------------------------------------------------------


class OrgUnitRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class NameOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()


class IdentifierOut(serializers.Serializer):
    kind = serializers.CharField()
    masked = serializers.CharField()


class AddressOut(serializers.Serializer):
    id = serializers.UUIDField()
    street = serializers.CharField()
    unit = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postcode = serializers.CharField()
    county = serializers.CharField()
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)


class PhoneOut(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField()


class RelationshipOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    person = serializers.UUIDField(source="person_id")
    related = serializers.UUIDField(source="related_id")
    started = serializers.DateField(allow_null=True)
    ended = serializers.DateField(allow_null=True)


class MembershipOut(serializers.Serializer):
    household = serializers.UUIDField(source="household_id")
    label = serializers.CharField(source="household.label")  # type: ignore[assignment]
    role = serializers.CharField()
    joined = serializers.DateField(allow_null=True)
    left = serializers.DateField(allow_null=True)


class PersonOut(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    suffix = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    dob_precision = serializers.CharField()
    sex = serializers.CharField()
    race_amiakn = serializers.BooleanField()
    race_asian = serializers.BooleanField()
    race_blkafram = serializers.BooleanField()
    race_hawaiipi = serializers.BooleanField()
    race_white = serializers.BooleanField()
    race_unknown = serializers.BooleanField()
    race_declined = serializers.BooleanField()
    hispanic = serializers.CharField()
    tribal_affiliation = serializers.CharField()
    restricted = serializers.BooleanField()
    status = serializers.CharField()
    merged_into = serializers.UUIDField(source="merged_into_id", allow_null=True)
    org_unit = OrgUnitRef()
    names = NameOut(many=True, source="names.all")
    identifiers = IdentifierOut(many=True, source="identifiers.all")
    addresses = AddressOut(many=True, source="addresses.all")
    phones = PhoneOut(many=True, source="phones.all")
    relationships = RelationshipOut(many=True, source="relationships_from.all")
    households = MembershipOut(many=True, source="memberships.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SearchResultOut(serializers.Serializer):
    id = serializers.UUIDField(source="person.id")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    first_name = serializers.CharField(source="person.first_name")
    middle_name = serializers.CharField(source="person.middle_name")
    last_name = serializers.CharField(source="person.last_name")
    date_of_birth = serializers.DateField(source="person.date_of_birth", allow_null=True)
    sex = serializers.CharField(source="person.sex")
    county = serializers.CharField(source="person.org_unit.name")
    ssn = serializers.CharField(source="masked_ssn")


# --- Input ----------------------------------------------------------------------------------


class NameIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=PersonName.Kind.choices, default=PersonName.Kind.ALIAS)
    first_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    middle_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")


class AddressIn(StrictSerializer):
    street = SafeCharField(max_length=200)
    unit = SafeCharField(max_length=50, required=False, allow_blank=True, default="")
    city = SafeCharField(max_length=100)
    state = serializers.RegexField(r"^[A-Z]{2}$", max_length=2)
    postcode = serializers.RegexField(
        r"^\d{5}(-\d{4})?$", required=False, allow_blank=True, default=""
    )
    county = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    valid_from = serializers.DateField(required=False, allow_null=True, validators=[_past_date])


class PhoneIn(StrictSerializer):
    number = serializers.RegexField(r"^\+?[0-9 ().-]{7,20}$", max_length=32)
    kind = serializers.ChoiceField(choices=Phone.Kind.choices, default=Phone.Kind.MOBILE)


class PersonFieldsIn(StrictSerializer):
    first_name = SafeCharField(max_length=100)
    middle_name = SafeCharField(max_length=100, required=False, allow_blank=True)
    last_name = SafeCharField(max_length=100)
    suffix = SafeCharField(max_length=20, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True, validators=[_past_date])
    dob_precision = serializers.ChoiceField(choices=DobPrecision.choices, required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    race_amiakn = serializers.BooleanField(required=False)
    race_asian = serializers.BooleanField(required=False)
    race_blkafram = serializers.BooleanField(required=False)
    race_hawaiipi = serializers.BooleanField(required=False)
    race_white = serializers.BooleanField(required=False)
    race_unknown = serializers.BooleanField(required=False)
    race_declined = serializers.BooleanField(required=False)
    hispanic = serializers.ChoiceField(choices=Hispanic.choices, required=False)
    tribal_affiliation = SafeCharField(max_length=200, required=False, allow_blank=True)


class PersonCreateIn(PersonFieldsIn):
    org_unit = SafeSlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all())
    ssn = serializers.RegexField(r"^\d{3}-?\d{2}-?\d{4}$", required=False, allow_blank=True)
    names = NameIn(many=True, required=False, default=list)
    addresses = AddressIn(many=True, required=False, default=list)
    phones = PhoneIn(many=True, required=False, default=list)
    # A worker who saw likely matches and confirms this is someone else names them here;
    # each pair is recorded as confirmed different (and audited) with the reason.
    different_from = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=20
    )
    confirmation_reason = SafeCharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class PersonUpdateIn(PersonFieldsIn):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class SearchIn(StrictSerializer):
    q = SafeCharField(max_length=200, required=False, allow_blank=True, default="")
    first_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True, default="")
    identifier = serializers.RegexField(
        r"^[0-9 -]{0,11}$", required=False, allow_blank=True, default=""
    )
    street = SafeCharField(max_length=200, required=False, allow_blank=True, default="")
    city = SafeCharField(max_length=100, required=False, allow_blank=True, default="")
    postcode = serializers.RegexField(
        r"^\d{5}(-\d{4})?$", required=False, allow_blank=True, default=""
    )
    phone = serializers.RegexField(
        r"^\+?[0-9 ().-]{7,20}$", max_length=32, required=False, allow_blank=True, default=""
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=25)


class BreakGlassIn(StrictSerializer):
    reason = SafeCharField(min_length=10, max_length=2000)


class RelationshipIn(StrictSerializer):
    related = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    started = serializers.DateField(required=False, allow_null=True, validators=[_past_date])


class IdentifierIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Identifier.Kind.choices)
    value = serializers.RegexField(r"^[0-9A-Za-z -]{1,40}$")


# --- Views ----------------------------------------------------------------------------------


def _person_response(person: Person, status: int = 200) -> Response:
    return Response(PersonOut(person).data, status=status, headers={"ETag": etag(person.version)})


def _reload(user: Any, person_id: Any) -> Person:
    return selectors.person_get(user=user, person_id=person_id)


class PersonListApi(ApiView):
    @extend_schema(
        operation_id="persons_search",
        parameters=[SearchIn],
        responses={200: SearchResultOut(many=True), **ERRORS},
        description="Typo-tolerant search by name (``q`` = 'first last' or 'last, first'), "
        "date of birth, sex, SSN (9 digits) or its last four digits, address pieces (street, "
        "city, postcode) and phone. ``score`` is the match probability and ``reasons`` its "
        "explanation, each line with its weight (log2 odds).",
    )
    def get(self, request: Request) -> Response:
        data = validated(SearchIn, request.query_params.dict())
        limit = data.pop("limit")
        query = selectors.SearchQuery(
            name=data["q"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data.get("date_of_birth"),
            sex=data["sex"],
            identifier=data["identifier"],
            street=data["street"],
            city=data["city"],
            postcode=data["postcode"],
            phone=data["phone"],
        )
        results = selectors.person_search(user=actor(request), query=query, limit=limit)
        return Response(SearchResultOut(results, many=True).data)

    @extend_schema(
        operation_id="persons_create",
        parameters=[IDEMPOTENCY_KEY],
        request=PersonCreateIn,
        responses={201: PersonOut, 422: OpenApiResponse(ERROR), **ERRORS},
        description="The registry is searched first: a record that may already exist (match "
        "probability at or above the policy's possible-duplicate threshold) is refused with "
        "code ``possible_duplicate``, the ``candidates`` and their weighted explanations, "
        "unless ``different_from`` lists every candidate's id and ``confirmation_reason`` "
        "says why this is someone else; each such pair is then recorded as different people.",
    )
    def post(self, request: Request) -> Response:
        data = validated(PersonCreateIn, request.data)
        ssn = data.pop("ssn", "")
        org_unit = data.pop("org_unit")
        different_from = data.pop("different_from")
        confirmation_reason = data.pop("confirmation_reason")
        related = {
            "names": data.pop("names"),
            "addresses": data.pop("addresses"),
            "phones": data.pop("phones"),
            "identifiers": [{"kind": "ssn", "value": ssn}] if ssn else [],
        }
        person = services.person_create_after_search(
            user=actor(request),
            org_unit=org_unit,
            values=data,
            different_from=different_from,
            reason=confirmation_reason,
            **related,
        )
        return _person_response(_reload(actor(request), person.pk), status=201)


def _stale(request: Request, person_id: Any, exc: Conflict) -> Response:
    """412 with the current record and its ETag, answered (not raised) so the audited read
    of the current version is kept."""
    current = _reload(actor(request), person_id)
    body = exc.as_dict() | {"current": PersonOut(current).data}
    return Response(body, status=exc.status, headers={"ETag": etag(current.version)})


class PersonDetailApi(ApiView):
    @extend_schema(operation_id="persons_read", responses={200: PersonOut, **ERRORS})
    def get(self, request: Request, person_id: str) -> Response:
        return _person_response(selectors.person_get(user=actor(request), person_id=person_id))

    @extend_schema(
        operation_id="persons_update",
        parameters=[IF_MATCH],
        request=PersonUpdateIn,
        responses={
            200: PersonOut,
            412: OpenApiResponse(ERROR, description="Stale: the body carries the current record."),
            428: OpenApiResponse(ERROR, description="If-Match missing."),
            **ERRORS,
        },
    )
    def patch(self, request: Request, person_id: str) -> Response:
        version = expected_version(request)
        changes = validated(PersonUpdateIn, request.data)
        if not changes:
            raise ValidationFailed(
                "Nothing to change.", fields={"non_field_errors": ["Empty update."]}
            )
        try:
            person = services.person_update(
                user=actor(request), person_id=person_id, expected_version=version, changes=changes
            )
        except Conflict as exc:
            return _stale(request, person_id, exc)
        return _person_response(_reload(actor(request), person.pk))


class PersonHistoryApi(ApiView):
    @extend_schema(
        operation_id="persons_history",
        responses={
            200: inline_serializer(
                "HistoryEntry",
                fields={
                    "at": serializers.DateTimeField(),
                    "by": serializers.CharField(),
                    "type": serializers.CharField(),
                    "version": serializers.IntegerField(),
                    "fields": serializers.ListField(child=serializers.CharField()),
                },
                many=True,
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, person_id: str) -> Response:
        person = selectors.person_get(user=actor(request), person_id=person_id)
        return Response(selectors.person_history(person=person))


class PersonAddressApi(ApiView):
    @extend_schema(
        operation_id="persons_address_add", request=AddressIn, responses={201: PersonOut, **ERRORS}
    )
    def post(self, request: Request, person_id: str) -> Response:
        data = validated(AddressIn, request.data)
        services.person_address_add(user=actor(request), person_id=person_id, data=data)
        return _person_response(_reload(actor(request), person_id), status=201)


class PersonNameApi(ApiView):
    @extend_schema(
        operation_id="persons_name_add", request=NameIn, responses={201: PersonOut, **ERRORS}
    )
    def post(self, request: Request, person_id: str) -> Response:
        data = validated(NameIn, request.data)
        if not (data["first_name"] or data["last_name"]):
            raise ValidationFailed(
                "Give a first or last name.", fields={"last_name": ["Required."]}
            )
        services.person_name_add(user=actor(request), person_id=person_id, data=data)
        return _person_response(_reload(actor(request), person_id), status=201)


class PersonIdentifierApi(ApiView):
    @extend_schema(
        operation_id="persons_identifier_set",
        parameters=[IF_MATCH_TO_REPLACE],
        request=IdentifierIn,
        responses={
            200: PersonOut,
            412: OpenApiResponse(ERROR, description="Stale: the body carries the current record."),
            428: OpenApiResponse(ERROR, description="Replacing an identifier needs If-Match."),
            **ERRORS,
        },
    )
    def post(self, request: Request, person_id: str) -> Response:
        data = validated(IdentifierIn, request.data)
        version = expected_version(request) if "If-Match" in request.headers else None
        try:
            services.person_identifier_set(
                user=actor(request), person_id=person_id, expected_version=version, **data
            )
        except Conflict as exc:
            return _stale(request, person_id, exc)
        return _person_response(_reload(actor(request), person_id))


class PersonRelationshipApi(ApiView):
    @extend_schema(
        operation_id="persons_relationship_add",
        request=RelationshipIn,
        responses={201: PersonOut, **ERRORS},
    )
    def post(self, request: Request, person_id: str) -> Response:
        data = validated(RelationshipIn, request.data)
        services.relationship_add(
            user=actor(request),
            person_id=person_id,
            related_id=data["related"],
            kind=data["kind"],
            started=data.get("started"),
        )
        return _person_response(_reload(actor(request), person_id), status=201)


class PersonBreakGlassApi(ApiView):
    @extend_schema(
        operation_id="persons_break_glass",
        request=BreakGlassIn,
        responses={201: PersonOut, **ERRORS},
        description="Emergency access to a person outside your scope. The reason is shown to "
        "the auditor; access lasts a limited time.",
    )
    def post(self, request: Request, person_id: str) -> Response:
        data = validated(BreakGlassIn, request.data)
        person = selectors.person_for_break_glass(user=actor(request), person_id=person_id)
        access.break_glass_open(user=actor(request), record=person, reason=data["reason"])
        return _person_response(_reload(actor(request), person_id), status=201)


class HouseholdMemberIn(StrictSerializer):
    person = serializers.UUIDField()
    role = serializers.ChoiceField(
        choices=["head", "adult", "partner", "child", "relative", "other"]
    )


class HouseholdIn(StrictSerializer):
    label = SafeCharField(max_length=200)  # type: ignore[assignment]
    org_unit = SafeSlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all())
    members = HouseholdMemberIn(many=True, min_length=1, max_length=30)  # type: ignore[call-arg]


class HouseholdMemberOut(serializers.Serializer):
    person = serializers.UUIDField(source="person_id")
    role = serializers.CharField()
    joined = serializers.DateField(allow_null=True)
    left = serializers.DateField(allow_null=True)


class HouseholdOut(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    org_unit = OrgUnitRef()
    members = HouseholdMemberOut(many=True, source="members.all")


class HouseholdListApi(ApiView):
    @extend_schema(
        operation_id="households_create",
        parameters=[IDEMPOTENCY_KEY],
        request=HouseholdIn,
        responses={201: HouseholdOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = validated(HouseholdIn, request.data)
        household = services.household_create_from_ids(
            user=actor(request),
            org_unit=data["org_unit"],
            label=data["label"],
            members=[(m["person"], m["role"]) for m in data["members"]],
        )
        household = selectors.household_get(user=actor(request), household_id=household.pk)
        return Response(HouseholdOut(household).data, status=201)


class HouseholdDetailApi(ApiView):
    @extend_schema(operation_id="households_read", responses={200: HouseholdOut, **ERRORS})
    def get(self, request: Request, household_id: str) -> Response:
        household = selectors.household_get(user=actor(request), household_id=household_id)
        return Response(HouseholdOut(household).data, headers={"ETag": etag(household.version)})


# --- Possible duplicates, merge and unmerge ----------------------------------------------------


class DuplicatePersonOut(serializers.Serializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


class DuplicateOut(serializers.Serializer):
    id = serializers.UUIDField()
    person_a = DuplicatePersonOut()
    person_b = DuplicatePersonOut()
    probability = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()


class MergeIn(StrictSerializer):
    survivor = serializers.UUIDField()
    merged = serializers.UUIDField()
    reason = SafeCharField(min_length=3, max_length=2000)


class UnmergeIn(StrictSerializer):
    reason = SafeCharField(min_length=3, max_length=2000)


class MergeOut(serializers.Serializer):
    id = serializers.UUIDField()
    survivor = serializers.UUIDField(source="survivor_id")
    merged = serializers.UUIDField(source="merged_id")
    reason = serializers.CharField()
    moved = serializers.SerializerMethodField()
    kept = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)

    def get_moved(self, merge: Any) -> int:
        return len(merge.moved)

    def get_kept(self, merge: Any) -> int:
        return len(merge.kept)


class DuplicateListApi(ApiView):
    @extend_schema(
        operation_id="persons_duplicates",
        responses={200: DuplicateOut(many=True), **ERRORS},
        description="Possible duplicate pairs to review (needs person.merge).",
    )
    def get(self, request: Request) -> Response:
        pairs = selectors.duplicate_list(user=actor(request))
        return Response(DuplicateOut(pairs, many=True).data)


class MergeListApi(ApiView):
    @extend_schema(
        operation_id="persons_merges_list", responses={200: MergeOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        return Response(MergeOut(selectors.merge_list(user=actor(request)), many=True).data)

    @extend_schema(
        operation_id="persons_merges_create",
        request=MergeIn,
        responses={201: MergeOut, **ERRORS},
        description="Merge ``merged`` into ``survivor``: every link moves; nothing is deleted.",
    )
    def post(self, request: Request) -> Response:
        data = validated(MergeIn, request.data)
        merge = services.person_merge(
            user=actor(request),
            survivor_id=data["survivor"],
            merged_id=data["merged"],
            reason=data["reason"],
        )
        return Response(MergeOut(merge).data, status=201)


class UnmergeApi(ApiView):
    @extend_schema(
        operation_id="persons_merges_unmerge",
        request=UnmergeIn,
        responses={200: MergeOut, **ERRORS},
        description="Undo a merge: the links it moved go back and the record is active again.",
    )
    def post(self, request: Request, merge_id: str) -> Response:
        data = validated(UnmergeIn, request.data)
        merge = services.person_unmerge(
            user=actor(request), merge_id=merge_id, reason=data["reason"]
        )
        return Response(MergeOut(merge).data)
