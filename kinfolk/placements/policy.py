"""Placement policy: the removal reasons, read from the policy file.

The federal code sets themselves (placement settings, discharge reasons, removal manner) are
``TextChoices`` in ``models``: they are AFCARS's, not a state's, and the federal tables check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from kinfolk.core.policy import PolicyError, code_map, get_policy


@dataclass(frozen=True)
class PlacementPolicy:
    removal_reasons: dict[str, str]
    # NCANDS maltreatment type -> the removal reason it suggests (the simulator's loader).
    reasons_by_maltreatment: dict[str, str]


def parse_placements(raw: Any, source: str = "<policy>") -> PlacementPolicy:
    where = f"{source}: placements"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: missing or not a mapping")
    reasons = code_map(raw, "removal_reasons", where)
    by_type = code_map(raw, "reasons_by_maltreatment", where)
    unknown = sorted(v for v in by_type.values() if v not in reasons)
    if unknown:
        raise PolicyError(
            f"{where}.reasons_by_maltreatment: unknown removal reason(s) {', '.join(unknown)}"
        )
    return PlacementPolicy(reasons, by_type)


@cache
def placement_policy() -> PlacementPolicy:
    policy = get_policy()
    return parse_placements(policy.raw.get("placements"), policy.source)
