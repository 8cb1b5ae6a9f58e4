"""The cases and placements sections of the policy file are checked at start-up."""

from __future__ import annotations

import pytest

from kinfolk.cases.policy import case_policy, parse_cases
from kinfolk.core.policy import PolicyError
from kinfolk.placements.policy import parse_placements, placement_policy


def test_the_shipped_policy_has_case_kinds_and_removal_reasons():
    assert "foster_care" in case_policy().kinds
    assert "neglect" in placement_policy().removal_reasons


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "cases: missing or not a mapping"),
        (
            {"kinds": {"in_home": "In home"}, "close_reasons": {"x": "X"}},
            "must include foster_care",
        ),
        ({"kinds": {"foster_care": "FC"}}, "cases.close_reasons: expected a non-empty mapping"),
    ],
)
def test_a_bad_cases_section_is_refused_by_name(raw, message):
    with pytest.raises(PolicyError, match=message):
        parse_cases(raw, "p.yaml")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "placements.removal_reasons: expected a non-empty mapping"),
        (
            {"removal_reasons": {"neglect": "Neglect"}, "reasons_by_maltreatment": {"2": "nope"}},
            "unknown removal reason\\(s\\) nope",
        ),
    ],
)
def test_a_bad_placements_section_is_refused_by_name(raw, message):
    with pytest.raises(PolicyError, match=message):
        parse_placements(raw, "p.yaml")
