"""API plumbing shared by every app: the error body, If-Match, Idempotency-Key."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from kinfolk.core import audit
from kinfolk.core.errors import (
    AccessDenied,
    ApplicationError,
    IdempotencyMismatch,
    PreconditionRequired,
    ValidationFailed,
)
from kinfolk.core.models import IdempotencyKey, User

# --- Errors ---------------------------------------------------------------------------------


def _printable(text: Any) -> str:
    """Error text without lone surrogates: DRF's messages echo the input (``"…" is not a valid
    choice``) and the JSON renderer cannot encode a lone surrogate (it would be a 500)."""
    return _SURROGATE.sub("\ufffd", str(text))


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {_printable(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [_printable(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [_printable(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as ``{"code", "message", "fields"?}``.

    A refused read (``AccessDenied``) does not roll back: its ``denied`` audit row must stay.
    """
    if isinstance(exc, ApplicationError):
        if not isinstance(exc, AccessDenied):
            set_rollback()
        return Response(exc.as_dict(), status=exc.status)
    set_rollback()
    if isinstance(exc, Http404):
        return Response({"code": "not_found", "message": "Not found."}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        return Response(
            {"code": "invalid", "message": "Some fields are not valid.", "fields": fields},
            status=400,
        )
    if isinstance(exc, drf_exceptions.ParseError):
        return Response({"code": "malformed", "message": str(exc.detail)}, status=400)
    if isinstance(exc, drf_exceptions.APIException):
        headers = {}
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        return Response(
            {"code": code, "message": str(exc.detail)}, status=exc.status_code, headers=headers
        )
    return None


def raise_serializer_errors(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    """Validate an input serializer; errors become one ``ValidationFailed`` with every field."""
    if not serializer.is_valid():
        raise ValidationFailed("Some fields are not valid.", fields=_flatten(serializer.errors))
    return dict(serializer.validated_data)


# --- Versions: ETag and If-Match ------------------------------------------------------------

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request) -> int:
    """The version the client last saw, from ``If-Match``. Missing → 428; malformed → 400."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the version (ETag) you last read; updates never overwrite blindly."
        )
    match = _IF_MATCH.match(header)
    if not match:
        raise ValidationFailed(
            'If-Match must be the ETag you read, e.g. "3".',
            fields={"If-Match": ["Not a version ETag."]},
            code="invalid_if_match",
        )
    return int(match.group(1))


# --- Idempotency ----------------------------------------------------------------------------

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(stored: IdempotencyKey) -> Response:
    headers = dict(stored.response_headers)
    headers["Idempotent-Replayed"] = "true"
    return Response(stored.response_body, status=stored.status_code, headers=headers)


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a POST safe to retry: with ``Idempotency-Key``, the first success is replayed.

    The same key with a different body is a 422. Keys are kept ``KINFOLK_IDEMPOTENCY_HOURS``.
    """

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        user = actor(request)
        if key is None:
            with audit.deferred():
                return view_method(self, request, *args, **kwargs)
        if not _KEY.match(key):
            raise ValidationFailed(
                "Idempotency-Key must be 1–255 visible ASCII characters.",
                fields={"Idempotency-Key": ["Invalid key."]},
                code="invalid_idempotency_key",
            )
        fingerprint = _fingerprint(request)
        oldest = timezone.now() - timedelta(hours=settings.KINFOLK_IDEMPOTENCY_HOURS)
        keyed = IdempotencyKey.objects.filter(user=user, key=key)
        stored = keyed.first()
        if stored is not None and stored.created_at < oldest:
            stored.delete()  # expired: the key may be used afresh
            stored = None
        if stored is None:
            try:
                with transaction.atomic(), audit.deferred():
                    response = view_method(self, request, *args, **kwargs)
                    if 200 <= response.status_code < 300:
                        IdempotencyKey.objects.create(
                            user=user,
                            key=key,
                            method=request.method or "POST",
                            path=request.path[:500],
                            fingerprint=fingerprint,
                            status_code=response.status_code,
                            response_body=response.data,
                            response_headers={
                                k: v for k, v in response.items() if k in {"ETag", "Location"}
                            },
                        )
                        return response
            except IntegrityError:
                # A concurrent request with the same key committed first: our work was
                # rolled back with the savepoint; answer with theirs.
                stored = keyed.get()
            # Refused (raised or returned). A concurrent request with the same key may have
            # succeeded while this one ran, and this one may have been refused because of it
            # (its new record is now a possible duplicate of the other's): a retry answers with
            # that success, as it would have had it arrived a moment later.
            except (ApplicationError, drf_exceptions.APIException):
                stored = keyed.first()
                if stored is None:
                    raise
            else:
                stored = keyed.first()
                if stored is None:
                    return response
        if stored.fingerprint != fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was already used with a different request body."
            )
        return _replay(stored)

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


_IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string: a retried POST with the same key is not applied twice.",
)


class KinfolkAutoSchema(AutoSchema):
    """The OpenAPI schema names the Idempotency-Key header on every idempotent POST."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        if self.method == "POST" and getattr(handler, "idempotent", False):
            parameters.append(_IDEMPOTENCY_PARAMETER)
        return parameters


class ApiView(APIView):
    """The base of every Kinfolk API view: every POST is safe to retry.

    A subclass's ``post`` is wrapped with :func:`idempotent` when the class is created, so no
    endpoint can forget it. Only a view that has no signed-in user yet (the token exchange)
    sets ``idempotent_post = False``.
    """

    idempotent_post = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        post = cls.__dict__.get("post")
        if cls.idempotent_post and post is not None and not getattr(post, "idempotent", False):
            cls.post = idempotent(post)  # type: ignore[attr-defined]


# --- Input fields that refuse what the database cannot store ---------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class SafeCharField(serializers.CharField):
    """Text without control characters or lone surrogates (PostgreSQL cannot store them)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if _SURROGATE.search(data):
            raise serializers.ValidationError("Contains invalid unicode (a lone surrogate).")
        if _CONTROL.search(data):
            raise serializers.ValidationError("Contains control characters.")
        return super().to_internal_value(data)


def unstorable_json(value: Any, *, max_depth: int = 20) -> str:
    """Why free-form JSON cannot be stored ("" when it can): nesting deeper than ``max_depth``,
    or a key or string with a control character or lone surrogate (PostgreSQL's jsonb refuses
    NUL and lone surrogates; the JSON renderer cannot encode the latter).

    Walks with an explicit stack: a recursive walk of deep input would itself overflow.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return f"Nested more than {max_depth} levels deep."
        if isinstance(item, str):
            if _SURROGATE.search(item) or _CONTROL.search(item):
                return "Contains control characters or invalid unicode."
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return ""


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not declare."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        # The names are echoed in the error body: no control characters or lone surrogates
        # (the JSON renderer cannot encode those), at most 100 characters each.
        unknown = sorted(
            _SURROGATE.sub("\ufffd", _CONTROL.sub("\ufffd", str(k)[:100]))
            for k in data
            if k not in self.fields
        )
        if unknown:
            raise serializers.ValidationError({k: ["Unknown field."] for k in unknown[:20]})
        return super().to_internal_value(data)


def validated(
    serializer_class: type[serializers.Serializer[Any]], data: Any, **kwargs: Any
) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    return raise_serializer_errors(serializer)


def actor(request: Any) -> User:
    """The signed-in user of a request (API views and pages are behind authentication)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise drf_exceptions.NotAuthenticated()
    return user


class SafeSlugRelatedField(serializers.SlugRelatedField):
    """A slug lookup that refuses hostile text before it reaches the database."""

    def to_internal_value(self, data: Any) -> Any:
        if (
            not isinstance(data, str)
            or len(data) > 150
            or _CONTROL.search(data)
            or _SURROGATE.search(data)
        ):
            self.fail("invalid")
        return super().to_internal_value(data)
