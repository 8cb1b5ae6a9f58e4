"""Headline rates computed back from a simulated table directory, beside their targets.

``headline_rates(directory)`` reads the four tables (through the same reader the outcomes
engine uses) and ``simulation.json`` (the child population, referrals and screening counts,
which the federal tables do not carry) and returns the figures the parameters were calibrated
to. The CFSR-like figures here are the simulator's own quick reading, good enough to calibrate
the model; the outcomes engine is the authority on the exact Round 4 definitions. Re-entry is the
exception: it is computed exactly as the engine defines it (the Round 4 exit cohort), so the two
print the same figure for the same directory and period.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinfolk.simulate.params import Params, load_params

EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Rate:
    name: str
    value: float | None
    target: float | None
    unit: str
    source: str


def _days(column: pa.ChunkedArray) -> np.ndarray:
    """Dates as day numbers; missing = -1."""
    filled = pc.fill_null(column.cast(pa.int32()), -1)
    return np.asarray(filled.to_numpy(), dtype=np.int64)


def _ints(column: pa.ChunkedArray, missing: int = 0) -> np.ndarray:
    return np.asarray(pc.fill_null(column, missing).to_numpy(), dtype=np.int64)


def _day(text: str) -> int:
    return (dt.date.fromisoformat(text) - EPOCH).days


def _codes(*columns: pa.ChunkedArray) -> list[np.ndarray]:
    """Integer codes for string ids, consistent across the given columns."""
    joined = pa.chunked_array([c for col in columns for c in col.chunks], type=pa.string())
    _, inverse = np.unique(
        np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object).astype(str),
        return_inverse=True,
    )
    out, start = [], 0
    for col in columns:
        out.append(inverse[start : start + len(col)])
        start += len(col)
    return out


# The Round 4 re-entry exit cohort's discharge reasons: reunification, relative, guardianship.
REENTRY_EXIT_REASONS = (1, 2, 5)
REENTRY_WINDOW_DAYS = 365
# A day number later than any real date: "never turns 18" (no date of birth).
FAR_FUTURE = 10_000_000


def _eighteenth_birthdays(child_ids: pa.ChunkedArray, children: pa.Table) -> np.ndarray:
    """Each row's child's 18th birthday as a day number (FAR_FUTURE without a date of birth).

    A 29 February birthday is reached on 28 February, as in the outcomes engine.
    """
    if children.num_rows == 0:
        return np.full(len(child_ids), FAR_FUTURE, dtype=np.int64)
    at = pc.index_in(child_ids, value_set=children["child_id"].combine_chunks())
    dob = pc.take(children["date_of_birth"], pc.fill_null(at, 0))
    dob = pc.if_else(pc.is_null(at), pa.scalar(None, pa.date32()), dob)
    known = np.asarray(pc.is_valid(dob).to_numpy(zero_copy_only=False), dtype=bool)
    year = _ints(pc.year(dob)) + 18
    month = _ints(pc.month(dob), missing=1)
    day = _ints(pc.day(dob), missing=1)
    # year + 18 is never a leap year when the birth year is one, so 29 February has no match.
    day = np.where((month == 2) & (day == 29), 28, day)
    months = (year - 1970) * 12 + (month - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return np.where(known, first + day - 1, FAR_FUTURE)


def reentry_12(tables: Mapping[str, pa.Table], ps: int, pe: int) -> tuple[int, int]:
    """CFSR Round 4 re-entry to foster care in 12 months for P = [ps, pe] (day numbers, both
    inclusive): (children who re-entered, children in the exit cohort), exactly as the outcomes
    engine counts them (``kinfolk.outcomes.engine._reentry``; DEFINITIONS.md, "Re-entry").

    The cohort is the children whose first discharge in P to reunification, a relative or
    guardianship comes before their 18th birthday; a child with a reasonless discharge in P on
    or before that exit is left out. A child re-enters when a later removal (after the exit
    episode's, on or after the discharge day) comes at most 365 days after the discharge.
    ``tables`` are the checked federal-shaped tables (``read_tables``).
    """
    episodes = tables["episodes"]
    if episodes.num_rows == 0:
        return 0, 0
    (child,) = _codes(episodes["child_id"])
    removal = _days(episodes["removal_date"])
    discharge = _days(episodes["discharge_date"])
    reason = _ints(episodes["discharge_reason"])
    b18 = _eighteenth_birthdays(episodes["child_id"], tables["children"])
    # (discharge is -1 while in care)
    discharged = (discharge >= 0) & (discharge >= ps) & (discharge <= pe) & (discharge < b18)
    exits = np.flatnonzero(discharged & np.isin(reason, REENTRY_EXIT_REASONS))
    if not exits.size:
        return 0, 0
    exits = exits[np.lexsort((removal[exits], discharge[exits], child[exits]))]
    first = np.ones(exits.size, dtype=bool)
    first[1:] = child[exits][1:] != child[exits][:-1]
    exits = exits[first]
    unknown = np.flatnonzero(discharged & (reason == 0))
    first_unknown = np.full(int(child.max()) + 1, FAR_FUTURE, dtype=np.int64)
    np.minimum.at(first_unknown, child[unknown], discharge[unknown])
    cohort = exits[first_unknown[child[exits]] > discharge[exits]]
    if not cohort.size:
        return 0, 0
    # The earliest removal of the same child after the exit episode's and on or after the
    # discharge: a search in the episodes sorted by (child, removal).
    offset = -int(min(removal.min(), discharge[cohort].min())) + 1
    span = int(max(removal.max(), discharge[cohort].max())) + offset + 2
    keys = np.sort(child.astype(np.int64) * span + removal + offset)
    earliest = np.maximum(removal[cohort] + 1, discharge[cohort])
    at = np.searchsorted(keys, child[cohort].astype(np.int64) * span + earliest + offset)
    found = at < keys.size
    later = np.where(found, keys[np.minimum(at, keys.size - 1)], -1)
    same_child = found & (later // span == child[cohort])
    later_removal = later % span - offset
    hits = same_child & (later_removal - discharge[cohort] <= REENTRY_WINDOW_DAYS)
    return int(hits.sum()), int(cohort.size)


def headline_rates(directory: str | Path, params: Params | None = None) -> list[Rate]:
    from kinfolk.federal.tables import read_tables

    path = Path(directory)
    manifest: dict[str, Any] = json.loads((path / "simulation.json").read_text(encoding="utf-8"))
    tables = read_tables(path)
    params = params or load_params()
    years = [y for y in manifest["fiscal_years"] if not y["warmup"]] or manifest["fiscal_years"]
    lo, hi = _day(years[0]["start"]), _day(years[-1]["end"]) + 1
    data_end = _day(manifest["end_date"]) + 1
    child_years = sum(y["child_days"] for y in years) / 365.25
    referrals = sum(y["referrals"] for y in years)
    screened = sum(y["screened_in"] for y in years)

    rep, epi, plc = tables["reports"], tables["episodes"], tables["placements"]
    r_child, e_child, p_child = _codes(rep["child_id"], epi["child_id"], plc["child_id"])
    r_day = _days(rep["report_date"])
    r_level = _ints(rep["maltreatment_level"])
    r_year = np.searchsorted([_day(y["start"]) for y in years], r_day, side="right")
    in_years = (r_day >= lo) & (r_day < hi)
    # Unique children per fiscal year, summed over years (as the CM counts each year).
    response = len(np.unique(r_child[in_years] * 100 + r_year[in_years]))
    victim_rows = in_years & (r_level <= 3)
    victims = len(np.unique(r_child[victim_rows] * 100 + r_year[victim_rows]))

    rem = _days(epi["removal_date"])
    dis = _days(epi["discharge_date"])
    reason = _ints(epi["discharge_reason"])
    entries = int(((rem >= lo) & (rem < hi)).sum())
    exits = (dis >= lo) & (dis < hi)
    n_exits = max(1, int(exits.sum()))
    median_months = (
        float(np.median(dis[exits] - rem[exits]) / (365.25 / 12)) if exits.any() else None
    )
    share = {k: float((reason[exits] == k).sum() / n_exits) for k in range(1, 9)}

    # CFSR-like readings on the last fiscal year that has a full year of follow-up.
    starts = [_day(y["start"]) for y in manifest["fiscal_years"]]
    follow = [s for s in starts if s + 2 * 365 <= data_end] or [starts[0]]
    p_lo = follow[-1]
    p_hi = p_lo + 365
    first_entry = (rem >= p_lo) & (rem < p_hi)
    order = np.lexsort((rem, e_child))
    e_sorted = e_child[order]
    first_of_child = np.ones(order.size, dtype=bool)
    first_of_child[1:] = e_sorted[1:] != e_sorted[:-1]
    # First entry in P per child.
    cand = order[first_entry[order]]
    _, first_idx = np.unique(e_child[cand], return_index=True)
    cohort = cand[first_idx]
    stay = np.where(dis[cohort] >= 0, dis[cohort], data_end) - rem[cohort]
    cohort = cohort[stay >= 8]
    perm = (dis[cohort] >= 0) & np.isin(reason[cohort], (1, 2, 3, 5))
    perm &= dis[cohort] - rem[cohort] < 365
    perm12 = float(perm.mean()) if cohort.size else None
    # Re-entry: the Round 4 exit cohort, as the outcomes engine defines it (see _reentry_12).
    p_index = starts.index(p_lo)
    p_end = _day(manifest["fiscal_years"][p_index]["end"])
    reentered, exit_cohort = reentry_12(tables, p_lo, p_end)
    reentry = reentered / exit_cohort if exit_cohort else None

    # Placement stability: episodes that begin in P; moves between placement settings.
    p_rem = _days(plc["removal_date"])
    p_start = _days(plc["start_date"])
    setting = _ints(plc["setting"])
    temporary = _ints(plc["temporary"])
    provider = np.asarray(
        pc.fill_null(plc["provider_id"], "").to_numpy(zero_copy_only=False), dtype=object
    )
    real = (setting != 7) & (setting != 8) & (temporary == 0)
    # Moves during P only (a placement that starts after P is not counted), as the days are.
    begins = (p_rem >= p_lo) & (p_rem < p_hi) & real & (p_start < p_hi)
    idx = np.flatnonzero(begins)
    idx = idx[np.lexsort((p_start[idx], p_rem[idx], p_child[idx]))]
    same_ep = (p_child[idx][1:] == p_child[idx][:-1]) & (p_rem[idx][1:] == p_rem[idx][:-1])
    moved = same_ep & (provider[idx][1:] != provider[idx][:-1])
    ep_in = (rem >= p_lo) & (rem < p_hi)
    ep_end = np.where(dis >= 0, np.minimum(dis, p_hi), p_hi)
    days_in = int(np.maximum(0, ep_end[ep_in] - rem[ep_in]).sum())
    stability = 1000.0 * int(moved.sum()) / days_in if days_in else None

    # Recurrence: victims in P; another victim report 15..365 days after the first.
    v = np.flatnonzero((r_level <= 2) & (r_day >= p_lo) & (r_day < p_hi))
    v = v[np.lexsort((r_day[v], r_child[v]))]
    _, first_v = np.unique(r_child[v], return_index=True)
    initial = v[first_v]
    all_v = np.flatnonzero(r_level <= 2)
    by_child: dict[int, np.ndarray] = {}
    if all_v.size:
        av = all_v[np.lexsort((r_day[all_v], r_child[all_v]))]
        bounds = np.flatnonzero(np.diff(r_child[av])) + 1
        for group in np.split(av, bounds):
            by_child[int(r_child[group[0]])] = r_day[group]
    recurred = 0
    for i in initial:  # per victim in P, a few thousand at county scale
        later = by_child[int(r_child[i])] - r_day[i]
        recurred += bool(((later > 14) & (later <= 365)).any())
    recurrence = recurred / initial.size if initial.size else None

    # Maltreatment in care: victim reports during an episode (7+ days after removal), per
    # 100,000 days in care in P.
    in_p = (rem < p_hi) & ((dis < 0) | (dis > p_lo))
    care_days = int(
        (np.minimum(np.where(dis >= 0, dis, p_hi), p_hi) - np.maximum(rem, p_lo))[in_p].sum()
    )
    vict = np.flatnonzero((r_level <= 2) & (r_day >= p_lo) & (r_day < p_hi))
    # One victimization per child and day, however many maltreatment-type rows it has.
    _, unique_rows = np.unique(r_child[vict] * 100_000 + r_day[vict], return_index=True)
    vict = vict[unique_rows]
    e_by_child: dict[int, list[int]] = {}
    for ep_i in np.flatnonzero(in_p).tolist():
        e_by_child.setdefault(int(e_child[ep_i]), []).append(ep_i)
    mic = 0
    for i in vict:
        for e in e_by_child.get(int(r_child[i]), ()):
            end_e = int(dis[e]) if dis[e] >= 0 else data_end
            if r_day[i] - rem[e] >= 7 and r_day[i] < end_e:
                mic += 1
                break
    mic_rate = 100_000.0 * mic / care_days if care_days else None

    def target(name: str) -> tuple[float, str]:
        key = f"targets.{name}"
        return params.num(key), params.sources[key]

    def rate(name: str, value: float | None, unit: str, scale: float = 1.0) -> Rate:
        t, source = target(name)
        return Rate(name, None if value is None else value * scale, t * scale, unit, source)

    per_1000 = 1000.0 / child_years if child_years else 0.0
    period = f"FFY starting {(EPOCH + dt.timedelta(days=p_lo)).isoformat()}"
    return [
        rate("referrals_per_1000", referrals * per_1000, "per 1,000 children a year"),
        rate("screen_in_rate", screened / referrals if referrals else None, "%", 100),
        rate("children_response_per_1000", response * per_1000, "per 1,000 children a year"),
        rate("victims_per_1000", victims * per_1000, "per 1,000 children a year"),
        rate("entries_per_1000", entries * per_1000, "per 1,000 children a year"),
        rate("median_months_in_care_at_exit", median_months, "months"),
        rate("exit_reunification", share[1], "% of exits", 100),
        rate("exit_relative", share[2], "% of exits", 100),
        rate("exit_adoption", share[3], "% of exits", 100),
        rate("exit_emancipation", share[4], "% of exits", 100),
        rate("exit_guardianship", share[5], "% of exits", 100),
        rate("permanency_12_entries", perm12, f"% ({period})", 100),
        rate("reentry_12", reentry, f"% ({period}; CFSR Round 4 exit cohort)", 100),
        rate("placement_stability", stability, f"moves per 1,000 days ({period})"),
        rate("recurrence", recurrence, f"% ({period})", 100),
        rate("maltreatment_in_care", mic_rate, f"per 100,000 days ({period})"),
    ]


def format_rates(rates: list[Rate]) -> str:
    lines = [f"{'measure':32} {'simulated':>10} {'target':>10} {'ratio':>6}  unit"]
    for r in rates:
        value = "-" if r.value is None else f"{r.value:10.2f}"
        tgt = "-" if r.target is None else f"{r.target:10.2f}"
        ratio = f"{r.value / r.target:6.2f}" if r.value is not None and r.target else "     -"
        lines.append(f"{r.name:32} {value:>10} {tgt:>10} {ratio}  {r.unit}")
    lines.append("")
    lines.append("targets:")
    for r in rates:
        lines.append(f"  {r.name}: {r.source}")
    return "\n".join(lines)
