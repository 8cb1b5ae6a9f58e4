"""What the current request is (id, client address), for audit rows written deep inside services."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str | None = None


_current: ContextVar[RequestContext] = ContextVar("kinfolk_request", default=RequestContext())  # noqa: B039 - frozen


def current() -> RequestContext:
    return _current.get()


def set_current(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
