"""Property-based fuzzing of every API operation from the OpenAPI schema: zero 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from kinfolk.core import services as core
from kinfolk.wsgi import application


def _load_schema() -> Any:
    # Generated in-process: collection has no database, and the schema needs none.
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = application
    return loaded


schema = _load_schema()


@pytest.fixture
def _keep_test_connection() -> Any:
    # As Django's own test client does: a request must not close the test's transaction.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(org, personas, person_in, _keep_test_connection) -> str:
    # One user holding many roles, so every operation is reachable, not just refused.
    user = core.user_create(
        by=None,
        username="fuzzer",
        password="x",
        check_password=False,
        roles=[
            ("hotline_supervisor", org["DS"]),
            ("administrator", org["DS"]),
            ("auditor", org["DS"]),
            ("investigator", org["ADM-N"]),
        ],
    )
    for _ in range(3):
        person_in("ADM-N")
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_operation_answers_with_a_server_error(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error])
