"""``kinfolk audit verify`` and ``kinfolk manage ...`` (Django's commands under one name)."""

from __future__ import annotations

import argparse
import os


def _django_command(*argv: str) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kinfolk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kinfolk", *argv])
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    return _django_command("audit_verify")


def _manage(args: argparse.Namespace) -> int:
    return _django_command(*args.rest)


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain of the audit trail")
    verify.set_defaults(func=_audit_verify)
    manage = subparsers.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=_manage)
