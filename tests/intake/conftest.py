from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone


def report_body(**overrides: Any) -> dict[str, Any]:
    """Two children, a parent as alleged perpetrator, an allegation for each child."""
    body: dict[str, Any] = {
        "org_unit": "ADM-N",
        "received_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "channel": "phone",
        "narrative": "Teacher saw bruises on both children's arms this morning.",
        "location": "Adamsville Elementary",
        "reporter": {
            "source": "5",
            "name": "Pat Teacher",
            "phone": "555-201-3344",
            "organisation": "Adamsville Elementary",
        },
        "people": [
            {
                "ref": "c1",
                "role": "alleged_victim",
                "first_name": "Mila",
                "last_name": "Ortega",
                "date_of_birth": "2016-05-04",
                "sex": "2",
            },
            {
                "ref": "c2",
                "role": "alleged_victim",
                "first_name": "Leo",
                "last_name": "Ortega",
                "date_of_birth": "2019-02-11",
                "sex": "1",
            },
            {
                "ref": "p1",
                "role": "alleged_perpetrator",
                "first_name": "Ramon",
                "last_name": "Ortega",
                "date_of_birth": "1988-09-30",
                "sex": "1",
            },
        ],
        "allegations": [
            {
                "child": "c1",
                "perpetrator": "p1",
                "perpetrator_relationship": "parent",
                "maltreatment_type": "1",
                "incident_date": str(timezone.localdate()),
            },
            {
                "child": "c2",
                "perpetrator": "p1",
                "perpetrator_relationship": "parent",
                "maltreatment_type": "2",
            },
        ],
        "worker_safety": {"dangerous_animals": True, "notes": "Large dog in the yard"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def file_report(personas: dict[str, Any], client_for: Callable[..., Any]) -> Callable[..., Any]:
    def file(user: str = "hana", **overrides: Any) -> Any:
        if "people" not in overrides:
            # Each call is a new family as far as the worker knows.
            overrides["people"] = [p | {"confirmed_new": True} for p in report_body()["people"]]
        response = client_for(personas[user]).post(
            "/api/v1/reports/", report_body(**overrides), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    return file


@pytest.fixture
def screened_in(file_report, personas, client_for):
    def make(**screen: Any) -> dict[str, Any]:
        report = file_report()
        body = {"decision": "in", "narrative": "Physical abuse alleged by a teacher."} | screen
        response = client_for(personas["hana"]).post(
            f"/api/v1/reports/{report['id']}/screen/", body, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return make


@pytest.fixture
def approved(screened_in, personas, client_for):
    def make() -> dict[str, Any]:
        report = screened_in()
        response = client_for(personas["hector"]).post(
            f"/api/v1/reports/{report['id']}/approve/", {}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return make
