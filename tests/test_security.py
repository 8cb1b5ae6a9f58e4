"""Sessions, sign-in throttling, headers and production settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.test import Client

from kinfolk.core.models import AuditEvent
from tests.conftest import PASSWORD


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_signing_in_rotates_the_session_key(personas):
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session"
    response = _sign_in(client, "ines")
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != "attacker-chosen-session"
    assert AuditEvent.objects.filter(action="login", username="ines").exists()


def test_sign_out_invalidates_the_session(personas):
    client = Client()
    _sign_in(client, "ines")
    old_cookie = client.cookies["sessionid"].value
    assert client.get("/people/").status_code == 200
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = old_cookie
    assert replay.get("/people/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", username="ines").exists()


def test_an_idle_session_ends(personas, settings):
    client = Client()
    _sign_in(client, "ines")
    session = client.session
    session["kinfolk_last_seen"] = time.time() - settings.KINFOLK_SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/people/")
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_an_idle_api_session_gets_a_json_401(personas, settings):
    client = Client()
    _sign_in(client, "ines")
    session = client.session
    session["kinfolk_last_seen"] = time.time() - settings.KINFOLK_SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_an_active_session_still_ends_at_the_absolute_limit(personas, settings):
    client = Client()
    _sign_in(client, "ines")
    session = client.session
    session["kinfolk_login_at"] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    assert client.get("/people/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", detail__why="absolute timeout").exists()


def test_repeated_failed_sign_ins_lock_the_account_for_a_while(personas, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "ines", "wrong-password")
    locked = _sign_in(client, "ines", PASSWORD)
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login_failed").count() >= settings.AXES_FAILURE_LIMIT


@pytest.mark.parametrize("path", ["/people/", "/api/v1/me/", "/login/"])
def test_every_page_and_api_answer_is_no_store_with_security_headers(personas, client_for, path):
    response = client_for(personas["ines"]).get(path)
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_forms_need_a_csrf_token(personas):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "ines", "password": PASSWORD})
    assert response.status_code == 403


def _run_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "KINFOLK_FIELD_KEYS"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            "'kinfolk.settings'); django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        ],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = _run_settings({"KINFOLK_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_defaults_to_no_debug_and_secure_cookies():
    result = _run_settings(
        {
            "KINFOLK_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "KINFOLK_FIELD_KEYS": "a2luZm9say1kZXZlbG9wbWVudC1maWVsZC1rZXktMDE=",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_cookies_are_secure_unless_debug_is_on():
    assert _run_settings({}).stdout.split() == ["False", "True"]
    assert _run_settings({"DEBUG": "1"}).stdout.split() == ["True", "False"]


def test_request_logs_never_carry_query_strings(caplog):
    import logging

    from kinfolk.core.logfilters import RedactQueryStrings

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /people/?q=Jaylen+Carter&date_of_birth=2017-03-09 HTTP/1.1", 200, 512),
        None,
    )
    RedactQueryStrings().filter(record)
    text = record.getMessage()
    assert "Jaylen" not in text and "2017" not in text
    assert "/people/?[redacted]" in text
