"""Intake policy: codes, response priorities and the screening rules, read from the policy file.

The rule engine is plain Python over plain values: the first rule whose conditions all hold
decides track and priority, and the decision says which rule fired and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from kinfolk.core.policy import PolicyError, code_map, get_policy

CONDITIONS = {
    "maltreatment_any",
    "child_under",
    "perpetrator_any",
    "serious_injury",
    "safety_threat",
    "low_risk",
}
CODE_SETS = (
    "channels",
    "reporter_sources",
    "maltreatment_types",
    "perpetrator_relationships",
    "screen_out_reasons",
    "tracks",
)


@dataclass(frozen=True)
class Priority:
    code: str
    label: str
    hours: int
    clock: str  # "elapsed": real hours; "wall": the agency's clock (same time N days on)


@dataclass(frozen=True)
class Rule:
    id: str
    when: dict[str, Any]
    track: str
    priority: str
    why: str


@dataclass(frozen=True)
class Facts:
    maltreatment: frozenset[str]
    youngest_age: int | None
    perpetrators: frozenset[str]
    serious_injury: bool = False
    safety_threat: bool = False
    low_risk: bool = False


@dataclass(frozen=True)
class Decision:
    track: str
    priority: str
    rule: str
    why: str
    matched: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IntakePolicy:
    zone: ZoneInfo
    related_window_days: int
    codes: dict[str, dict[str, str]]
    priorities: dict[str, Priority]
    rules: list[Rule]
    default: Rule

    def label(self, code_set: str, code: str) -> str:
        return self.codes[code_set].get(code, code)

    def decide(self, facts: Facts) -> Decision:
        for rule in self.rules:
            if _holds(rule.when, facts):
                return Decision(rule.track, rule.priority, rule.id, rule.why, dict(rule.when))
        d = self.default
        return Decision(d.track, d.priority, d.id, d.why, {})

    def response_due(self, received_at: datetime, priority: str) -> datetime:
        """When the first face-to-face contact is due, computed in the agency's time zone."""
        spec = self.priorities[priority]
        if spec.clock == "elapsed":
            return received_at + timedelta(hours=spec.hours)
        local = received_at.astimezone(self.zone)
        wall = local.replace(tzinfo=None) + timedelta(hours=spec.hours)
        # A wall time that does not exist (spring forward) or repeats (fall back) resolves
        # to the earlier instant: the deadline never moves later than the clock on the wall.
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(received_at.tzinfo)


def _holds(when: dict[str, Any], facts: Facts) -> bool:
    for key, wanted in when.items():
        if key == "maltreatment_any" and not facts.maltreatment & set(wanted):
            return False
        if key == "perpetrator_any" and not facts.perpetrators & set(wanted):
            return False
        if key == "child_under" and (facts.youngest_age is None or facts.youngest_age >= wanted):
            return False
        if key in {"serious_injury", "safety_threat", "low_risk"} and getattr(facts, key) != wanted:
            return False
    return True


def parse_intake(raw: Any, zone: ZoneInfo, source: str = "<policy>") -> IntakePolicy:
    where = f"{source}: intake"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: missing or not a mapping")
    codes = {name: code_map(raw, name, where) for name in CODE_SETS}
    window = raw.get("related_window_days", 90)
    if not isinstance(window, int) or window < 0:
        raise PolicyError(f"{where}.related_window_days: expected a whole number of days")
    priorities: dict[str, Priority] = {}
    for code, spec in (raw.get("priorities") or {}).items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("hours"), int)
            or spec["hours"] <= 0
        ):
            raise PolicyError(f"{where}.priorities.{code}.hours: expected a positive whole number")
        if spec.get("clock", "elapsed") not in {"elapsed", "wall"}:
            raise PolicyError(f"{where}.priorities.{code}.clock: expected 'elapsed' or 'wall'")
        priorities[str(code)] = Priority(
            str(code), str(spec.get("label", code)), spec["hours"], spec.get("clock", "elapsed")
        )
    if not priorities:
        raise PolicyError(f"{where}.priorities: expected at least one priority")

    def rule(spec: Any, rule_where: str) -> Rule:
        if not isinstance(spec, dict):
            raise PolicyError(f"{rule_where}: expected a mapping")
        when = spec.get("when", {})
        if not isinstance(when, dict):
            raise PolicyError(f"{rule_where}.when: expected a mapping")
        unknown = set(when) - CONDITIONS
        if unknown:
            raise PolicyError(
                f"{rule_where}.when: unknown condition(s) {', '.join(sorted(unknown))}"
            )
        for key in ("maltreatment_any", "perpetrator_any"):
            if key in when:
                code_set = (
                    "maltreatment_types"
                    if key == "maltreatment_any"
                    else "perpetrator_relationships"
                )
                bad = [str(c) for c in when[key] if str(c) not in codes[code_set]]
                if bad:
                    raise PolicyError(f"{rule_where}.when.{key}: unknown code(s) {', '.join(bad)}")
                when = {**when, key: [str(c) for c in when[key]]}
        if spec.get("track") not in codes["tracks"]:
            raise PolicyError(f"{rule_where}.track: unknown track '{spec.get('track')}'")
        if spec.get("priority") not in priorities:
            raise PolicyError(f"{rule_where}.priority: unknown priority '{spec.get('priority')}'")
        if not spec.get("why"):
            raise PolicyError(f"{rule_where}.why: every rule must say why")
        return Rule(
            str(spec.get("id", "default")), when, spec["track"], spec["priority"], str(spec["why"])
        )

    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list):
        raise PolicyError(f"{where}.rules: expected a list")
    rules = [rule(spec, f"{where}.rules[{i}]") for i, spec in enumerate(rules_raw)]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise PolicyError(f"{where}.rules: rule ids must be unique")
    default = rule({**(raw.get("default") or {}), "id": "default"}, f"{where}.default")
    return IntakePolicy(zone, window, codes, priorities, rules, default)


@cache
def intake_policy() -> IntakePolicy:
    policy = get_policy()
    return parse_intake(policy.raw.get("intake"), policy.time_zone, policy.source)
