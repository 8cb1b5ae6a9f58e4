"""Request id, session timeouts, the agency's time zone and security headers."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from kinfolk.core import audit, context
from kinfolk.core.policy import agency_zone

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Tag each request with an id (the caller's ``X-Request-ID`` if sane) for audit rows."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.set_current(
            context.RequestContext(request_id=request_id, client_ip=request.META.get("REMOTE_ADDR"))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SessionTimeoutMiddleware:
    """End a session after ``KINFOLK_SESSION_IDLE_SECONDS`` without a request, and after
    ``SESSION_COOKIE_AGE`` from login whatever the activity."""

    # Refresh the last-seen stamp at most this often, so reads don't all write the session.
    TOUCH_EVERY = 15

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get("kinfolk_last_seen", now)
            started = request.session.get("kinfolk_login_at", now)
            idle = now - last > settings.KINFOLK_SESSION_IDLE_SECONDS
            expired = now - started > settings.SESSION_COOKIE_AGE
            if idle or expired:
                why = "idle timeout" if idle else "absolute timeout"
                audit.record(user=user, action="logout", detail={"why": why})
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "code": "session_expired",
                            "message": "Your session has ended; sign in again.",
                        },
                        status=401,
                    )
                return redirect(f"{reverse(settings.LOGIN_URL)}?expired=1")
            if now - last >= self.TOUCH_EVERY or "kinfolk_last_seen" not in request.session:
                request.session["kinfolk_last_seen"] = now
            request.session.setdefault("kinfolk_login_at", now)
        return self.get_response(request)


class AgencyTimeZoneMiddleware:
    """Read and show datetimes in the agency's zone from policy; the database keeps UTC.

    A "14:05" typed on a form is 14:05 on the agency's clock, and pages print due times the
    way the agency reads them. API datetimes keep their ISO 8601 offsets either way.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(agency_zone())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SecurityHeadersMiddleware:
    """CSP and no-store on every page and API answer (static files are served before this)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        csp = settings.KINFOLK_CSP
        if request.path.startswith(("/api/docs", "/api/redoc")):
            # Swagger UI and Redoc bootstrap themselves with inline script and style.
            csp = (
                csp.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
                .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
                .replace("img-src 'self' data:", "img-src 'self' data: blob:")
            )
            csp += "; worker-src 'self' blob:"
        response.setdefault("Content-Security-Policy", csp)
        response["Cache-Control"] = "no-store"
        response.setdefault("Pragma", "no-cache")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
