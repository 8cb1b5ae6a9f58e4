"""API token authentication with a lifetime, like a session's absolute timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token) -> bool:
    lifetime = timedelta(seconds=settings.KINFOLK_TOKEN_SECONDS)
    return token.created + lifetime <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """A token older than ``KINFOLK_TOKEN_SECONDS`` is refused; the client asks for a new one.

    A script left running for days with an old token should not keep reading case data.
    """

    def authenticate_credentials(self, key: str) -> Any:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed("Token expired: ask for a new one.")
        return user, token
