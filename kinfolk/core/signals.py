"""Audit sign-ins and sign-outs; keep the Role table in step with policy after migrate."""

from __future__ import annotations

import time
from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.http import HttpRequest

from kinfolk.core import audit


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session["kinfolk_login_at"] = now
        request.session["kinfolk_last_seen"] = now
    audit.record(user=user, action="login")


@receiver(user_logged_out)
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user=user, action="logout")


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # The attempted username is kept (it is not case data); the password never is.
    audit.record(
        user=None,
        action="login_failed",
        detail={"username": str(credentials.get("username", ""))[:150]},
    )


@receiver(post_migrate)
def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    if sender.label == "core":
        from kinfolk.core.services import roles_sync_from_policy

        roles_sync_from_policy()
