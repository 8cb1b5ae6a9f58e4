"""The simulator's parameters: one YAML file, every figure with its source.

``load_params()`` reads ``params.yaml`` beside this module (or another file) and refuses it,
with a :class:`ParamError` naming the parameter, when a figure has no source, a probability lies
outside [0, 1], a distribution does not sum to 1 or a list has the wrong length. The model never
reads YAML itself: it asks a :class:`Params` for typed values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).with_name("params.yaml")


class ParamError(ValueError):
    """The parameter file is malformed; the message names the parameter."""


# kind, and for lists the expected length. Kinds:
#   probability  - a number in [0, 1]
#   distribution - a list of probabilities that sums to 1
#   profile      - a list of non-negative numbers (relative weights or multipliers)
#   rates        - a list of non-negative numbers (per-day or per-1,000 rates)
#   positive     - a number > 0
#   count        - an integer >= 0
#   date         - an ISO date
SPECS: dict[str, tuple[str, int | None]] = {
    "start_date": ("date", None),
    "warmup_years": ("count", None),
    "population.children_per_household": ("distribution", 6),
    "population.birth_spacing_years": ("positive", None),
    "population.twin_rate": ("probability", None),
    "population.male_share": ("probability", None),
    "population.father_in_household": ("probability", None),
    "population.race": ("distribution", 7),
    "population.race_report_multiplier": ("profile", 7),
    "population.race_unknown": ("probability", None),
    "population.household_moves_per_year": ("probability", None),
    "reports.referrals_per_1000_children": ("positive", None),
    "reports.age_profile": ("profile", 18),
    "reports.frailty_shape": ("positive", None),
    "reports.history_multiplier": ("positive", None),
    "reports.referral_calibration": ("positive", None),
    "reports.screen_in_rate": ("probability", None),
    "reports.child_inclusion": ("probability", None),
    "reports.alternative_response": ("probability", None),
    "reports.ar_victim": ("probability", None),
    "reports.substantiation": ("probability", None),
    "reports.substantiation_repeat_multiplier": ("positive", None),
    "reports.victim_given_substantiated": ("probability", None),
    "reports.indicated_share": ("probability", None),
    "reports.maltreatment_type": ("distribution", 8),
    "reports.second_type": ("probability", None),
    "reports.incident_date_missing": ("probability", None),
    "reports.incident_lag_days": ("positive", None),
    "removal.victim": ("probability", None),
    "removal.infant_multiplier": ("positive", None),
    "removal.nonvictim": ("probability", None),
    "removal.same_day": ("probability", None),
    "episodes.exit_reason": ("distribution", 7),
    "episodes.median_days": ("rates", 7),
    "episodes.sigma": ("positive", None),
    "episodes.reentry": ("probability", None),
    "episodes.reentry_mean_days": ("positive", None),
    "episodes.age_out_extra_days": ("positive", None),
    "placements.first_setting": ("distribution", 6),
    "placements.move_rate_per_1000_days": ("rates", 3),
    "placements.trial_home_visit": ("probability", None),
    "placements.thv_mean_days": ("positive", None),
    "placements.pre_adoptive_same_home": ("probability", None),
    "placements.temporary_stay": ("probability", None),
    "placements.runaway_teen": ("probability", None),
    "in_care.victim_reports_per_day": ("probability", None),
    "in_care.other_reports_per_day": ("probability", None),
    **{
        f"noise.{name}": ("probability", None)
        for name in (
            "first_name_typo",
            "last_name_typo",
            "nickname",
            "middle_missing",
            "middle_initial",
            "hyphenated_surname",
            "maiden_surname",
            "child_other_surname",
            "dob_missing",
            "dob_swap_day_month",
            "dob_approximate",
            "ssn_missing_child",
            "ssn_missing_adult",
            "ssn_typo",
            "sex_missing",
            "address_missing",
            "address_stale",
            "street_typo",
            "phone_missing",
            "junior",
        )
    },
    "targets.referrals_per_1000": ("positive", None),
    "targets.screen_in_rate": ("probability", None),
    "targets.children_response_per_1000": ("positive", None),
    "targets.victims_per_1000": ("positive", None),
    "targets.entries_per_1000": ("positive", None),
    "targets.median_months_in_care_at_exit": ("positive", None),
    "targets.exit_reunification": ("probability", None),
    "targets.exit_relative": ("probability", None),
    "targets.exit_adoption": ("probability", None),
    "targets.exit_emancipation": ("probability", None),
    "targets.exit_guardianship": ("probability", None),
    "targets.permanency_12_entries": ("probability", None),
    "targets.reentry_12": ("probability", None),
    "targets.placement_stability": ("positive", None),
    "targets.recurrence": ("probability", None),
    "targets.maltreatment_in_care": ("positive", None),
}


@dataclass(frozen=True)
class Params:
    """Validated parameter values and their sources, looked up by dotted name."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def num(self, name: str) -> float:
        return float(self.values[name])

    def count(self, name: str) -> int:
        return int(self.values[name])

    def seq(self, name: str) -> list[float]:
        return [float(v) for v in self.values[name]]

    def day(self, name: str) -> dt.date:
        value = self.values[name]
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def with_values(self, **overrides: Any) -> Params:
        """A copy with some values replaced (keys use ``__`` for dots), for tests."""
        values = dict(self.values)
        for key, value in overrides.items():
            values[key.replace("__", ".")] = value
        return Params(values=values, sources=self.sources)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_value(name: str, kind: str, length: int | None, value: object) -> None:
    if kind == "date":
        if isinstance(value, dt.date):
            return
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            raise ParamError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
        return
    if kind in ("distribution", "profile", "rates"):
        if not isinstance(value, list) or not all(_is_number(v) for v in value):
            raise ParamError(f"{name}: expected a list of numbers, got {value!r}")
        if length is not None and len(value) != length:
            raise ParamError(f"{name}: expected {length} values, got {len(value)}")
        if any(v < 0 for v in value):
            raise ParamError(f"{name}: values must not be negative")
        if kind == "distribution":
            if any(v > 1 for v in value):
                raise ParamError(f"{name}: a probability outside [0, 1] in {value!r}")
            if abs(sum(value) - 1.0) > 1e-6:
                raise ParamError(f"{name}: probabilities sum to {sum(value):.6f}, not 1")
        return
    if not _is_number(value):
        raise ParamError(f"{name}: expected a number, got {value!r}")
    number = float(value)  # type: ignore[arg-type]
    if kind == "probability" and not 0.0 <= number <= 1.0:
        raise ParamError(f"{name}: {number} is a rate outside [0, 1]")
    if kind == "positive" and number <= 0:
        raise ParamError(f"{name}: {number} must be greater than 0")
    if kind == "count" and (number < 0 or number != int(number)):
        raise ParamError(f"{name}: {number} must be a whole number >= 0")


def _flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Leaves are the mappings that hold a ``value``; everything else is a section."""
    leaves: dict[str, Any] = {}
    for key, child in node.items():
        name = f"{prefix}{key}"
        if not isinstance(child, Mapping):
            raise ParamError(f"{name}: expected a mapping with 'value' and 'source'")
        if "value" in child or "source" in child:
            leaves[name] = child
        else:
            leaves.update(_flatten(child, f"{name}."))
    return leaves


def parse_params(document: object) -> Params:
    if not isinstance(document, Mapping):
        raise ParamError("the parameter file must be a mapping of sections")
    leaves = _flatten(document)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, kind_length in SPECS.items():
        leaf = leaves.get(name)
        if leaf is None:
            raise ParamError(f"{name}: missing parameter")
        if "value" not in leaf:
            raise ParamError(f"{name}: missing value")
        source = leaf.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ParamError(f"{name}: missing source (every figure must say where it comes from)")
        _check_value(name, *kind_length, leaf["value"])
        values[name] = leaf["value"]
        sources[name] = source
    unknown = sorted(set(leaves) - set(SPECS))
    if unknown:
        raise ParamError(f"{unknown[0]}: unknown parameter")
    return Params(values=values, sources=sources)


def load_params(path: str | Path | None = None) -> Params:
    """Read and validate a parameter file (default: the bundled ``params.yaml``)."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamError(f"cannot read parameter file {file}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamError(f"{file}: not valid YAML ({exc})") from None
    try:
        return parse_params(document)
    except ParamError as exc:
        raise ParamError(f"{file}: {exc}") from None
