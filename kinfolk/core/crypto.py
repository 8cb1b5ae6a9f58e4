"""Field encryption for identifiers (SSN...) with the ``cryptography`` package's Fernet.

Values are encrypted at rest; a keyed digest allows exact look-up without decrypting,
and the last four digits are kept for the partial search workers actually do.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.KINFOLK_FIELD_KEYS])


@cache
def _digest_key() -> bytes:
    return hashlib.sha256(
        b"kinfolk-identifier-digest:" + settings.KINFOLK_FIELD_KEYS[0].encode()
    ).digest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("identifier cannot be decrypted with the configured keys") from exc


def digest(value: str) -> str:
    return hmac.new(_digest_key(), value.encode(), hashlib.sha256).hexdigest()


def mask(last4: str, kind: str = "ssn") -> str:
    if not last4:
        return ""
    return f"***-**-{last4}" if kind == "ssn" else f"…{last4}"
