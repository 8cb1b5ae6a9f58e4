"""Core API: who am I, org units, the audit trail, user and role administration, tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from kinfolk.core import audit, selectors, services
from kinfolk.core.api import (
    ApiView,
    SafeCharField,
    SafeSlugRelatedField,
    StrictSerializer,
    actor,
    validated,
)
from kinfolk.core.authentication import token_expired
from kinfolk.core.errors import ApplicationError, NotFound, ValidationFailed
from kinfolk.core.models import AuditEvent, OrgUnit, Role, User


class AuditEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    username = serializers.CharField()
    action = serializers.CharField()
    record_type = serializers.CharField()
    record_id = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    detail = serializers.DictField()
    reason = serializers.CharField()
    break_glass = serializers.BooleanField()
    request_id = serializers.CharField()
    client_ip = serializers.CharField(allow_null=True)
    hash = serializers.CharField()


class AuditFilterIn(StrictSerializer):
    username = SafeCharField(max_length=150, required=False, allow_blank=True, default="")
    record_type = SafeCharField(max_length=32, required=False, allow_blank=True, default="")
    record_id = SafeCharField(max_length=64, required=False, allow_blank=True, default="")
    action = serializers.ChoiceField(
        choices=AuditEvent.Action.choices, required=False, allow_blank=True, default=""
    )
    since = serializers.DateField(required=False, allow_null=True)
    until = serializers.DateField(required=False, allow_null=True)
    break_glass = serializers.BooleanField(required=False, allow_null=True, default=None)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, default=0)


class AuditListApi(ApiView):
    @extend_schema(
        operation_id="audit_list",
        parameters=[AuditFilterIn],
        responses={200: AuditEventOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        data = validated(AuditFilterIn, request.query_params.dict())
        limit, offset = data.pop("limit"), data.pop("offset")
        rows = selectors.audit_list(user=actor(request), **data)[offset : offset + limit]
        return Response(AuditEventOut(rows, many=True).data)


class AuditVerifyApi(ApiView):
    @extend_schema(
        operation_id="audit_verify",
        responses={
            200: inline_serializer(
                "AuditVerify",
                {
                    "rows": serializers.IntegerField(),
                    "ok": serializers.BooleanField(),
                    "first_bad_id": serializers.IntegerField(allow_null=True),
                    "problem": serializers.CharField(),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        selectors.audit_list(user=actor(request))  # permission check
        result = audit.verify()
        return Response(
            {
                "rows": result.rows,
                "ok": result.ok,
                "first_bad_id": result.first_bad_id,
                "problem": result.problem,
            }
        )


class MeApi(ApiView):
    @extend_schema(
        operation_id="me",
        responses={
            200: inline_serializer(
                "Me",
                {
                    "username": serializers.CharField(),
                    "display_name": serializers.CharField(),
                    "roles": serializers.ListField(child=serializers.DictField()),
                    "permissions": serializers.ListField(child=serializers.CharField()),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.me(user=actor(request)))


class OrgUnitOut(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.code", allow_null=True, default=None
    )
    path = serializers.CharField()


class OrgUnitListApi(ApiView):
    @extend_schema(operation_id="org_units_list", responses={200: OrgUnitOut(many=True)})
    def get(self, request: Request) -> Response:
        units = selectors.org_units(user=actor(request)).select_related("parent")
        return Response(OrgUnitOut(units, many=True).data)


class RoleAssignmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField(source="role.code")
    org_unit = serializers.CharField(source="org_unit.code", allow_null=True, default=None)


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.CharField()
    is_active = serializers.BooleanField()
    roles = RoleAssignmentOut(many=True, source="role_assignments.all")
    supervisors = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_supervisors(self, obj: User) -> list[str]:
        return sorted(link.supervisor.username for link in obj.supervisors_set.all())


class RoleIn(StrictSerializer):
    role = SafeSlugRelatedField(slug_field="code", queryset=Role.objects.all())
    org_unit = SafeSlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )


class UserCreateIn(StrictSerializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    password = serializers.CharField(min_length=8, max_length=128, write_only=True)
    display_name = SafeCharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    roles = RoleIn(many=True, required=False, default=list)


class UserListApi(ApiView):
    @extend_schema(operation_id="users_list", responses={200: UserOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(UserOut(selectors.user_list(user=actor(request)), many=True).data)

    @extend_schema(operation_id="users_create", request=UserCreateIn, responses={201: UserOut})
    def post(self, request: Request) -> Response:
        selectors.user_list(user=actor(request))  # permission check before parsing
        data = validated(UserCreateIn, request.data)
        user = services.user_create(
            by=actor(request),
            username=data["username"],
            password=data["password"],
            display_name=data["display_name"],
            email=data["email"],
            roles=[(r["role"].code, r["org_unit"]) for r in data["roles"]],
        )
        return Response(UserOut(user).data, status=201)


class UserRoleApi(ApiView):
    @extend_schema(operation_id="users_role_add", request=RoleIn, responses={201: UserOut})
    def post(self, request: Request, user_id: int) -> Response:
        target = selectors.user_list(user=actor(request)).filter(pk=user_id).first()
        if target is None:
            raise ApplicationError("No such user.", code="not_found")
        data = validated(RoleIn, request.data)
        services.role_assign(
            by=actor(request), user=target, role_code=data["role"].code, org_unit=data["org_unit"]
        )
        return Response(UserOut(target).data, status=201)


class SupervisorIn(StrictSerializer):
    supervisor = SafeSlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )


def _managed_user(request: Request, user_id: int) -> User:
    """A user an administrator manages (403 for other roles, 404 for an unknown id)."""
    target = selectors.user_list(user=actor(request)).filter(pk=user_id).first()
    if target is None:
        raise NotFound("No such user.")
    return target


class UserSupervisorApi(ApiView):
    """The user's supervisor: one at a time; setting a new one replaces the old."""

    @extend_schema(
        operation_id="users_supervisor_set", request=SupervisorIn, responses={200: UserOut}
    )
    def post(self, request: Request, user_id: int) -> Response:
        target = _managed_user(request, user_id)
        data = validated(SupervisorIn, request.data)
        services.supervisor_set(by=actor(request), supervisee=target, supervisor=data["supervisor"])
        return Response(UserOut(_managed_user(request, user_id)).data)

    @extend_schema(operation_id="users_supervisor_clear", request=None, responses={200: UserOut})
    def delete(self, request: Request, user_id: int) -> Response:
        target = _managed_user(request, user_id)
        services.supervisor_set(by=actor(request), supervisee=target, supervisor=None)
        return Response(UserOut(_managed_user(request, user_id)).data)


class TokenIn(StrictSerializer):
    # Safe text: a NUL byte would reach the user lookup, which PostgreSQL cannot run.
    username = SafeCharField(max_length=150)
    password = serializers.CharField(max_length=128)


class TokenApi(ApiView):
    """A token for API clients (scripts, the benchmark). Login throttling applies."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    # No user yet to keep a key for; asking twice just issues the same token again.
    idempotent_post = False

    @extend_schema(
        operation_id="auth_token",
        request=TokenIn,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        data = validated(TokenIn, request.data)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            # Keep the failed-attempt rows (throttling counts them) but answer 400.
            transaction.set_rollback(False)
            raise_invalid = ValidationFailed(
                "Wrong username or password.", fields={"password": ["Wrong username or password."]}
            )
            return Response(raise_invalid.as_dict(), status=400)
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            # A fresh key, not the old one with a new date: the old key stays dead.
            token.delete()
            token = Token.objects.create(user=user)
        audit.record(user=user, action="login", detail={"via": "token"})
        return Response({"token": token.key})
