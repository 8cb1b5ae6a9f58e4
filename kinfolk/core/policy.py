"""Load and validate the agency policy file (``policy/default.yaml`` by default).

Validation happens at start-up; a malformed file stops the process with a message that
names the file and the key at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.conf import settings


class PolicyError(Exception):
    pass


@dataclass(frozen=True)
class RoleSpec:
    code: str
    label: str
    permissions: frozenset[str]
    intake: bool = False
    description: str = ""


@dataclass(frozen=True)
class MatchingPolicy:
    """Person-matching thresholds (match probabilities, 0–1).

    ``possible_duplicate``: at or above it, creating a new person needs a confirmation
    that they are someone else, and de-duplication queues the pair for a data steward.
    ``likely_duplicate``: at or above it, the pair is shown as likely the same person.
    """

    possible_duplicate: float = 0.5
    likely_duplicate: float = 0.9


@dataclass(frozen=True)
class Policy:
    source: str
    agency_name: str
    time_zone: ZoneInfo
    actions: dict[str, str]
    roles: dict[str, RoleSpec]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    matching: MatchingPolicy = field(default_factory=MatchingPolicy)


def _require(mapping: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise PolicyError(f"{where}: missing key '{key}'")
    value = mapping[key]
    if not isinstance(value, kind):
        raise PolicyError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def code_map(raw: Any, key: str, where: str) -> dict[str, str]:
    """``raw[key]`` as a non-empty mapping of code to label (both as text), else PolicyError."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, dict) or not value:
        raise PolicyError(f"{where}.{key}: expected a non-empty mapping of code to label")
    return {str(k): str(v) for k, v in value.items()}


def _parse_matching(raw: Any, source: str) -> MatchingPolicy:
    if raw is None:
        return MatchingPolicy()
    where = f"{source}: matching"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping")
    unknown = sorted(str(k) for k in raw if k not in ("possible_duplicate", "likely_duplicate"))
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values: dict[str, float] = {}
    for key in ("possible_duplicate", "likely_duplicate"):
        value = raw.get(key, getattr(MatchingPolicy, key))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{where}.{key}: expected a number between 0 and 1")
        if not 0 < value < 1:
            raise PolicyError(f"{where}.{key}: must lie strictly between 0 and 1")
        values[key] = float(value)
    if values["possible_duplicate"] > values["likely_duplicate"]:
        raise PolicyError(f"{where}: possible_duplicate must not exceed likely_duplicate")
    return MatchingPolicy(**values)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the top level must be a mapping")
    agency = _require(raw, "agency", dict, source)
    name = _require(agency, "name", str, f"{source}: agency")
    zone_name = _require(agency, "time_zone", str, f"{source}: agency")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"{source}: agency.time_zone: unknown time zone '{zone_name}'") from exc
    actions = _require(raw, "actions", dict, source)
    for action, text_ in actions.items():
        if not isinstance(action, str) or not isinstance(text_, str):
            raise PolicyError(f"{source}: actions.{action}: must map a name to a description")
    roles_raw = _require(raw, "roles", dict, source)
    roles: dict[str, RoleSpec] = {}
    for code, spec in roles_raw.items():
        where = f"{source}: roles.{code}"
        label = _require(spec, "label", str, where)
        permissions = _require(spec, "permissions", list, where)
        unknown = sorted(str(p) for p in permissions if p not in actions)
        if unknown:
            raise PolicyError(f"{where}.permissions: unknown action(s) {', '.join(unknown)}")
        intake = spec.get("intake", False)
        if not isinstance(intake, bool):
            raise PolicyError(f"{where}.intake: expected true or false")
        roles[code] = RoleSpec(
            code=code,
            label=label,
            permissions=frozenset(permissions),
            intake=intake,
            description=str(spec.get("description", "")),
        )
    return Policy(
        source=source,
        agency_name=name,
        time_zone=zone,
        actions=dict(actions),
        roles=roles,
        raw=raw,
        matching=_parse_matching(raw.get("matching"), source),
    )


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    return parse_policy(text, source=str(path))


@cache
def get_policy() -> Policy:
    return load_policy(settings.KINFOLK_POLICY_FILE)


def agency_zone() -> ZoneInfo:
    return get_policy().time_zone


def matching_policy() -> MatchingPolicy:
    return get_policy().matching
