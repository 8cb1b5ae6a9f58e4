"""One error family for the application. The API and the pages render each the same way:
a machine-readable ``code``, a human ``message`` and, where it applies, ``fields`` naming
each offending field with its messages.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return body


class ValidationFailed(ApplicationError):
    status = 400
    code = "invalid"


class NotFound(ApplicationError):
    """Also what a user outside a record's scope gets: its existence is not revealed."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class AccessDenied(NotFound):
    """Answered as 404; the denial itself is audited (and the audit row kept)."""


class Forbidden(ApplicationError):
    """The user's role does not allow this action at all (no record is involved)."""

    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    """A stale update: somebody else changed the record first."""

    status = 412
    code = "stale_version"


class PreconditionRequired(ApplicationError):
    status = 428
    code = "if_match_required"


class IdempotencyMismatch(ApplicationError):
    status = 422
    code = "idempotency_key_reused"
