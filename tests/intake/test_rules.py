"""The screening rules as data: each rule in the shipped policy, and bad policy refused."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.conf import settings

from kinfolk.core.policy import PolicyError
from kinfolk.intake.policy import Facts, intake_policy, parse_intake

RAW = yaml.safe_load(Path(settings.KINFOLK_POLICY_FILE).read_text())["intake"]
ZONE = ZoneInfo("America/Chicago")


def facts(types=(), age=8, perps=("parent",), **flags):
    return Facts(frozenset(types), age, frozenset(perps), **flags)


@pytest.mark.parametrize(
    ("case", "rule", "track", "priority"),
    [
        (facts(["4"]), "sexual_abuse_or_trafficking", "investigation", "P1"),
        (facts(["7"]), "sexual_abuse_or_trafficking", "investigation", "P1"),
        (facts(["2"], serious_injury=True), "serious_injury", "investigation", "P1"),
        (facts(["1"], age=2), "infant_physical_abuse", "investigation", "P1"),
        (facts(["2"], perps=["facility_caregiver"]), "facility_caregiver", "investigation", "P2"),
        (facts(["1"], age=3), "physical_abuse", "investigation", "P2"),
        (facts(["2"], safety_threat=True), "neglect_with_safety_threat", "family_assessment", "P2"),
        (facts(["2"], low_risk=True), "low_risk_no_threat", "community_referral", "P3"),
        (facts(["2"]), "neglect", "family_assessment", "P3"),
        (facts(["3"]), "neglect", "family_assessment", "P3"),
        (facts([]), "default", "family_assessment", "P3"),
        (facts(["1"], age=None), "physical_abuse", "investigation", "P2"),
    ],
)
def test_each_rule_fires_for_its_facts(case, rule, track, priority):
    decision = intake_policy().decide(case)
    assert (decision.rule, decision.track, decision.priority) == (rule, track, priority)
    assert decision.why


def test_the_first_matching_rule_wins():
    # Sexual abuse of an infant with a serious injury: the first rule listed decides.
    decision = intake_policy().decide(facts(["4", "1"], age=1, serious_injury=True))
    assert decision.rule == "sexual_abuse_or_trafficking"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["rules"][0]["when"].update(moon_phase="full"),
            "unknown condition(s) moon_phase",
        ),
        (lambda r: r["rules"][0].update(track="prison"), "unknown track 'prison'"),
        (lambda r: r["rules"][0].update(priority="P9"), "unknown priority 'P9'"),
        (lambda r: r["rules"][0].pop("why"), "every rule must say why"),
        (lambda r: r["rules"][0]["when"].update(maltreatment_any=["42"]), "unknown code(s) 42"),
        (lambda r: r["priorities"]["P1"].update(hours=-3), "positive whole number"),
        (lambda r: r["priorities"]["P1"].update(clock="sundial"), "'elapsed' or 'wall'"),
        (lambda r: r["rules"].append(dict(r["rules"][0])), "rule ids must be unique"),
        (lambda r: r.pop("screen_out_reasons"), "screen_out_reasons: expected a non-empty mapping"),
        (lambda r: r.update(related_window_days="soon"), "related_window_days"),
    ],
)
def test_a_malformed_intake_policy_is_refused_with_a_clear_message(change, message):
    import copy

    raw = copy.deepcopy(RAW)
    change(raw)
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_intake(raw, ZONE, "state.yaml")


def test_the_app_refuses_to_start_with_a_bad_rule(tmp_path):
    text = (
        Path(settings.KINFOLK_POLICY_FILE)
        .read_text()
        .replace("track: community_referral\n      priority: P3", "track: jail\n      priority: P3")
    )
    bad = tmp_path / "policy.yaml"
    bad.write_text(text)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        env={**os.environ, "KINFOLK_POLICY_FILE": str(bad)},
        timeout=120,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "unknown track 'jail'" in result.stderr


# --- Timeframes in the agency's time zone --------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_24_hour_response_keeps_the_wall_clock_across_spring_forward():
    # Saturday 10:00 CST, the night before clocks go forward (2026-03-08 02:00).
    received = _utc("2026-03-07T10:00:00-06:00")
    due = intake_policy().response_due(received, "P2")
    assert due.astimezone(ZONE).isoformat() == "2026-03-08T10:00:00-05:00"
    assert (due - received).total_seconds() == 23 * 3600


def test_a_72_hour_response_keeps_the_wall_clock_across_fall_back():
    received = _utc("2026-10-31T15:30:00-05:00")  # Saturday; clocks go back Sunday 2026-11-01
    due = intake_policy().response_due(received, "P3")
    assert due.astimezone(ZONE).isoformat() == "2026-11-03T15:30:00-06:00"
    assert (due - received).total_seconds() == 73 * 3600


def test_an_immediate_response_counts_real_hours_through_the_missing_hour():
    received = _utc("2026-03-08T01:30:00-06:00")
    due = intake_policy().response_due(received, "P1")
    assert (due - received).total_seconds() == 3 * 3600
    assert due.astimezone(ZONE).isoformat() == "2026-03-08T05:30:00-05:00"


def test_a_wall_clock_deadline_in_the_missing_hour_resolves_to_a_real_instant():
    received = _utc("2026-03-07T02:30:00-06:00")
    due = intake_policy().response_due(received, "P2")  # 02:30 on 2026-03-08 does not exist
    assert due.astimezone(ZONE).utcoffset() is not None
    assert (due - received).total_seconds() in {23 * 3600, 24 * 3600}
