"""Case policy: the kinds of case and the reasons a case closes, read from the policy file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from kinfolk.core.policy import PolicyError, code_map, get_policy


@dataclass(frozen=True)
class CasePolicy:
    kinds: dict[str, str]
    close_reasons: dict[str, str]


def parse_cases(raw: Any, source: str = "<policy>") -> CasePolicy:
    where = f"{source}: cases"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: missing or not a mapping")
    kinds = code_map(raw, "kinds", where)
    if "foster_care" not in kinds:
        # A removal opens (or joins) a foster-care case; the loader files one per episode.
        raise PolicyError(f"{where}.kinds: must include foster_care")
    return CasePolicy(kinds=kinds, close_reasons=code_map(raw, "close_reasons", where))


@cache
def case_policy() -> CasePolicy:
    policy = get_policy()
    return parse_cases(policy.raw.get("cases"), policy.source)
