"""API tokens for scripts: issued at sign-in, refused once older than their lifetime."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD


def _token(username: str) -> str:
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _me(key: str) -> int:
    response = Client().get("/api/v1/me/", headers={"Authorization": f"Token {key}"})
    if response.status_code != 200:
        # Session authentication comes first, so DRF answers a refused token with 403.
        assert response.json()["code"] == "authentication_failed", response.content
    return response.status_code


def test_a_fresh_token_reads_the_api(personas):
    assert _me(_token("ines")) == 200


def test_a_token_older_than_its_lifetime_is_refused(personas, settings):
    key = _token("ines")
    settings.KINFOLK_TOKEN_SECONDS = 3600
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=2))
    assert _me(key) == 403


def test_signing_in_again_after_expiry_gives_a_new_key_and_the_old_one_stays_dead(
    personas, settings
):
    old = _token("ines")
    settings.KINFOLK_TOKEN_SECONDS = 3600
    Token.objects.filter(key=old).update(created=timezone.now() - timedelta(hours=2))
    new = _token("ines")
    assert new != old
    assert _me(new) == 200 and _me(old) == 403


def test_a_token_still_in_its_lifetime_is_issued_again_unchanged(personas):
    assert _token("ines") == _token("ines")
