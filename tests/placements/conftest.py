from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from kinfolk.placements import services


@pytest.fixture
def days_ago() -> Callable[[int], date]:
    from django.utils import timezone

    return lambda n: timezone.localdate() - timedelta(days=n)


@pytest.fixture
def foster_home(personas, org) -> Any:
    return services.resource_home_create(
        user=personas["rita"],
        org_unit=org["ADM"],
        name="Maple foster home",
        home_type="foster_family",
    )


@pytest.fixture
def kin_home(personas, org) -> Any:
    return services.resource_home_create(
        user=personas["rita"], org_unit=org["ADM"], name="Aunt's home", home_type="kinship"
    )


@pytest.fixture
def removed(personas, org, person_in, foster_home, days_ago) -> Callable[..., Any]:
    """A child of Adams North removed by Felix (foster-care worker, Adams county)."""

    def make(days: int = 60, **values: Any) -> Any:
        child = person_in("ADM-N")
        return services.child_remove(
            user=personas["felix"],
            child_id=child.pk,
            org_unit=org["ADM-N"],
            removal_date=days_ago(days),
            removal_manner="2",
            removal_reasons=["neglect"],
            setting="3",
            resource_home_id=foster_home.pk,
            **values,
        )

    return make
