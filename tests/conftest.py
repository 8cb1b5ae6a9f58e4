"""Shared fixtures: the demo org tree and the personas every test speaks of.

Personas (role @ org unit):
  hana     hotline worker @ state          ines   investigator @ Adams North office
  ivan     investigator @ Cedar office     sam    supervisor @ Adams county (supervises ines)
  audrey   auditor @ state                 adam   administrator @ state
  pat      partner staff (no org unit)     ana    analyst @ state
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kinfolk.core import services as core
from kinfolk.core.models import OrgUnit, User
from kinfolk.core.services import roles_sync_from_policy
from tests.factories import PersonFactory

PASSWORD = "correct-horse-battery-staple-1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def match_index_path(settings: Any, tmp_path: Any) -> Any:
    """Each test gets its own person-matching index file, so tests stay independent."""
    settings.KINFOLK_MATCH_INDEX = tmp_path / "match-index.sqlite3"
    return settings.KINFOLK_MATCH_INDEX


@pytest.fixture
def org(db: Any) -> dict[str, OrgUnit]:
    from kinfolk.web.management.commands.load_demo import build_org_tree

    roles_sync_from_policy()
    return build_org_tree()


@pytest.fixture
def make_user(org: dict[str, OrgUnit]) -> Callable[..., User]:
    def make(username: str, role: str, unit: str | None) -> User:
        return core.user_create(
            by=None,
            username=username,
            password=PASSWORD,
            display_name=username.title(),
            roles=[(role, org[unit] if unit else None)],
            check_password=False,
        )

    return make


@pytest.fixture
def personas(make_user: Callable[..., User]) -> dict[str, User]:
    users = {
        "hana": make_user("hana", "hotline_worker", "DS"),
        "hector": make_user("hector", "hotline_supervisor", "DS"),
        "ines": make_user("ines", "investigator", "ADM-N"),
        "ivan": make_user("ivan", "investigator", "CED-1"),
        "carla": make_user("carla", "case_worker", "ADM-S"),
        "felix": make_user("felix", "foster_care_worker", "ADM"),
        "rita": make_user("rita", "resource_family_worker", "C1"),
        "sam": make_user("sam", "supervisor", "ADM"),
        "mona": make_user("mona", "office_manager", "BAK-1"),
        "pat": make_user("pat", "partner_staff", None),
        "cora": make_user("cora", "coalition_coordinator", "DS"),
        "ana": make_user("ana", "analyst", "DS"),
        "adam": make_user("adam", "administrator", "DS"),
        "audrey": make_user("audrey", "auditor", "DS"),
    }
    core.supervision_set(supervisor=users["sam"], supervisee=users["ines"])
    return users


@pytest.fixture
def person_in(org: dict[str, OrgUnit]) -> Callable[..., Any]:
    def make(unit: str, **values: Any) -> Any:
        return PersonFactory(org_unit=org[unit], **values)

    return make


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
