"""The child-welfare process model, vectorised over households with NumPy.

One *chunk* is a fixed number of synthetic households simulated independently with its own
random stream (seeded from the run seed and the chunk number), so chunks can be generated in
any order or in parallel and the output is still the same bytes. Inside a chunk nothing loops
over children: every step is an array operation over all households or children at once; the
only Python loops are over *rounds* (the next candidate event of every household at once), over
re-entry rounds of episodes, and over the handful of fiscal years.

The process, in order (each knob is in ``params.yaml`` with its source):

1. Households with 1-6 children (births spaced by a gamma interval, some twins), one or two
   caregivers, a race/ethnicity, a county and office drawn by the synthetic geography.
2. Referrals arrive per household as a Poisson process whose rate is the sum of its children's
   age hazards (highest in infancy), times a gamma *frailty* (some families are reported again
   and again), a race multiplier and a history multiplier after a screened-in report. Events are
   drawn by thinning: candidate times at an upper-bound rate, accepted in proportion.
3. Screening; screened-in referrals name an index child and each eligible sibling; a track
   (investigation or alternative response); a finding per child; maltreatment types.
4. Removal of some victims (and a few non-victims); an episode draws its exit reason and its
   time in care (lognormal by reason); turning 18 makes it an emancipation; some exits to
   permanency are followed by a re-entry. A child in care or gone (adopted, ...) is not named on
   the family's later referrals; a reunified child is.
5. Placements inside each episode: moves as a Poisson process that slows with time in care,
   settings by age, kin homes of the family, trial home visits before reunification, a
   pre-adoptive home before adoption (often the same foster home), respite stays and runaway
   spells that are not moves.
6. Reports about children in care (maltreatment in foster care) at a daily rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinfolk.simulate.geography import Geography
from kinfolk.simulate.params import Params

YEAR = 365.25
AGE18 = 6574  # days from birth to the 18th birthday (18 * 365 + 4 leap days), a day early at most
EPOCH = dt.date(1970, 1, 1)
NEVER = np.iinfo(np.int64).max // 4

# Exit reasons drawn by the model, in the order of params episodes.exit_reason.
EXIT_CODES = np.array([1, 2, 3, 5, 6, 7, 8], dtype=np.int64)
# Maltreatment types in the order of params reports.maltreatment_type.
TYPE_CODES = np.array([1, 2, 3, 4, 5, 7, 8, 9], dtype=np.int64)
SETTING_CODES = np.array([1, 2, 3, 4, 5, 6], dtype=np.int64)

# Provider id prefixes by setting; the number that follows identifies the home or facility.
PROVIDER_PREFIX = {1: "A", 2: "K", 3: "F", 4: "G", 5: "I", 6: "S", 7: "", 8: "H"}


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Window:
    """Simulated days [start, end), cut into (fiscal) years at ``bounds``."""

    start: int
    end: int
    bounds: tuple[int, ...]

    @classmethod
    def from_start(cls, start: dt.date, years: int) -> Window:
        days = tuple(day_number(start.replace(year=start.year + k)) for k in range(years + 1))
        return cls(start=days[0], end=days[-1], bounds=days)

    def year_of(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.bounds), days, side="right") - 1

    @property
    def years(self) -> float:
        return (self.end - self.start) / YEAR


@dataclass
class ChunkEvents:
    """Everything one chunk produced, as NumPy arrays (indices are chunk-local)."""

    chunk: int
    # households
    hh_county: np.ndarray
    hh_office: np.ndarray
    hh_race: np.ndarray
    hh_father: np.ndarray
    hh_first_dob: np.ndarray
    # children (sorted by household)
    c_hh: np.ndarray
    c_dob: np.ndarray
    c_sex: np.ndarray  # 1 male, 2 female
    c_twin: np.ndarray
    c_race_unknown: np.ndarray  # the agency never recorded race or ethnicity
    # reports: one row per report x child x maltreatment type
    r_report: np.ndarray  # chunk-local report number, in date order
    r_child: np.ndarray
    r_day: np.ndarray
    r_incident: np.ndarray  # -1 = missing
    r_type: np.ndarray
    r_level: np.ndarray
    r_county: np.ndarray
    r_office: np.ndarray
    # episodes
    e_child: np.ndarray
    e_removal: np.ndarray
    e_discharge: np.ndarray  # -1 = in care at the end
    e_reason: np.ndarray  # 0 = in care
    # placements
    p_episode: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray  # -1 = current
    p_setting: np.ndarray
    p_temporary: np.ndarray
    p_provider_kind: np.ndarray  # setting-like code choosing the id prefix; 7 = none
    p_provider: np.ndarray
    # person appearances for the persons file: kind 0 child / 1 mother / 2 father (index: the
    # household) / 3 relative caregiver of a kin home (index: the kin home, household * 2 + 0
    # for the grandparent's home or + 1 for the aunt's or uncle's); the day of the record
    a_kind: np.ndarray
    a_index: np.ndarray
    a_day: np.ndarray
    a_report: np.ndarray  # chunk-local report number of the record, -1 = not a report
    # counts for rates: referrals, screened-in referrals, child-days per fiscal year
    stats: dict[str, list[int]] = field(default_factory=dict)


def chunk_rng(seed: int, chunk: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, chunk, stream])))


def _group_offsets(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., n-1 within each group of the given sizes, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _categorical(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from one cumulative distribution."""
    return np.searchsorted(cdf, rng.random(size), side="right").clip(0, len(cdf) - 1)


def _categorical_rows(rng: np.random.Generator, cdfs: np.ndarray) -> np.ndarray:
    """One draw per row of a matrix of cumulative distributions."""
    u = rng.random(len(cdfs))
    return (u[:, None] >= cdfs).sum(axis=1).clip(0, cdfs.shape[1] - 1)


def _cdf(p: list[float] | np.ndarray) -> np.ndarray:
    c = np.cumsum(np.asarray(p, dtype=np.float64))
    return c / c[-1]


def households_for(children: int, window: Window, params: Params) -> int:
    """Households needed so that about ``children`` children aged 0-17 live at any time."""
    dist = np.asarray(params.seq("population.children_per_household"))
    mean_kids = float((dist * np.arange(1, 7)).sum())
    span = (mean_kids - 1) * params.num("population.birth_spacing_years")
    length = window.years + 18 + span
    return max(1, round(children * length / (18 * mean_kids)))


# ---------------------------------------------------------------------------------------------
# 1. households and children


def _population(
    rng: np.random.Generator, params: Params, geo: Geography, n_hh: int, window: Window
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    kids = _categorical(rng, _cdf(params.seq("population.children_per_household")), n_hh) + 1
    spacing = params.num("population.birth_spacing_years") * YEAR
    lo = window.start - AGE18 - (kids - 1) * spacing
    first = np.floor(lo + rng.random(n_hh) * (window.end - lo)).astype(np.int64)
    c_hh = np.repeat(np.arange(n_hh, dtype=np.int64), kids)
    order = _group_offsets(kids)
    gap = rng.gamma(4.0, spacing / 4.0, len(c_hh))
    twin = rng.random(len(c_hh)) < params.num("population.twin_rate")
    gap[twin] = 0.0
    gap[order == 0] = 0.0
    twin &= order > 0
    cum = np.cumsum(gap)
    group_start = np.repeat(np.cumsum(kids) - kids, kids)
    dob = first[c_hh] + np.floor(cum - cum[group_start] + gap[group_start]).astype(np.int64)
    sex = np.where(rng.random(len(c_hh)) < params.num("population.male_share"), 1, 2)
    alive = (dob < window.end) & (dob + AGE18 > window.start)
    county = _categorical(rng, _cdf(geo.county_weight), n_hh)
    office = geo.office_start[county] + (rng.random(n_hh) * geo.office_count[county]).astype(
        np.int64
    )
    race = _categorical(rng, _cdf(params.seq("population.race")), n_hh)
    father = rng.random(n_hh) < params.num("population.father_in_household")
    hh = {
        "county": county,
        "office": office,
        "race": race,
        "father": father,
        "first_dob": first,
    }
    children = {
        "hh": c_hh[alive],
        "dob": dob[alive],
        "sex": sex[alive],
        "twin": twin[alive],
    }
    return hh, children


# ---------------------------------------------------------------------------------------------
# 4. episodes (with re-entries)


def _episode_chain(
    rng: np.random.Generator,
    params: Params,
    child: np.ndarray,
    removal: np.ndarray,
    dob: np.ndarray,
    end: int,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Episodes of removed children; returns episode arrays and when each child is home again."""
    reason_cdf = _cdf(params.seq("episodes.exit_reason"))
    medians = np.asarray(params.seq("episodes.median_days"))
    sigma = params.num("episodes.sigma")
    reentry = params.num("episodes.reentry")
    reentry_mean = params.num("episodes.reentry_mean_days")
    extra = params.num("episodes.age_out_extra_days")
    rows: list[tuple[np.ndarray, ...]] = []
    home_again = np.full(len(child), NEVER, dtype=np.int64)
    pos = np.arange(len(child))
    cur_child, cur_rem, cur_dob = child, removal, dob
    while cur_child.size:
        n = cur_child.size
        age18 = cur_dob + AGE18
        which = _categorical(rng, reason_cdf, n)
        age_years = (cur_rem - cur_dob) / YEAR
        # Adoption of teenagers is rare; their permanency is mostly guardianship.
        which = np.where((which == 2) & (age_years >= 14), 3, which)
        reason = EXIT_CODES[which]
        days = np.maximum(1, np.round(medians[which] * np.exp(sigma * rng.standard_normal(n))))
        discharge = cur_rem + days.astype(np.int64)
        aged_out = discharge >= age18
        reason = np.where(aged_out, 4, reason)
        late = age18 + np.floor(rng.exponential(extra, n)).astype(np.int64)
        discharge = np.where(aged_out, np.maximum(late, cur_rem + 1), discharge)
        open_ = discharge >= end
        rows.append(
            (
                cur_child,
                cur_rem,
                np.where(open_, -1, discharge),
                np.where(open_, 0, reason),
            )
        )
        home = ~open_ & (reason == 1)
        home_again[pos] = np.where(home, discharge + 1, NEVER)
        again = ~open_ & np.isin(reason, (1, 2, 5)) & (rng.random(n) < reentry)
        new_rem = discharge + 1 + np.floor(rng.exponential(reentry_mean, n)).astype(np.int64)
        again &= (new_rem < end) & (new_rem < age18)
        cur_child, cur_rem, cur_dob, pos = (
            cur_child[again],
            new_rem[again],
            cur_dob[again],
            pos[again],
        )
    columns = [np.concatenate([r[i] for r in rows]) for i in range(4)]
    return columns, home_again


# ---------------------------------------------------------------------------------------------
# 2-4. referrals, findings, removals


def _referrals(
    rng: np.random.Generator,
    params: Params,
    hh: dict[str, np.ndarray],
    ch: dict[str, np.ndarray],
    window: Window,
) -> dict[str, np.ndarray | int]:
    n_hh = len(hh["county"])
    c_hh, dob = ch["hh"], ch["dob"]
    profile = np.asarray(params.seq("reports.age_profile"))
    # Normalise so that the mean child-age hazard is 1; the rate parameter is then per child.
    profile = profile / profile.mean()
    race_mult = np.asarray(params.seq("population.race_report_multiplier"))
    race_mult = race_mult / float((race_mult * np.asarray(params.seq("population.race"))).sum())
    hmax = float(profile.max())
    base = (
        params.num("reports.referrals_per_1000_children")
        / 1000.0
        / YEAR
        * params.num("reports.referral_calibration")
    )
    shape = params.num("reports.frailty_shape")
    frailty = np.minimum(rng.gamma(shape, 1.0 / shape, n_hh), 25.0)
    kid_count = np.bincount(c_hh, minlength=n_hh)
    kid_start = np.concatenate([[0], np.cumsum(kid_count)[:-1]])
    lam_unit = base * frailty * race_mult[hh["race"]] * hmax * kid_count
    mult = np.ones(n_hh)
    prior_victim = np.zeros(n_hh, dtype=bool)
    home_from = dob.copy()  # a child can be named from birth until removed or gone
    first_dob = np.full(n_hh, NEVER, dtype=np.int64)
    last_out = np.zeros(n_hh, dtype=np.int64)
    if len(c_hh):
        np.minimum.at(first_dob, c_hh, dob)
        np.maximum.at(last_out, c_hh, dob + AGE18)
    t_cur = np.maximum(window.start, first_dob).astype(np.float64)
    active = np.flatnonzero((kid_count > 0) & (t_cur < window.end))

    p_screen = params.num("reports.screen_in_rate")
    p_incl = params.num("reports.child_inclusion")
    p_ar = params.num("reports.alternative_response")
    p_ar_victim = params.num("reports.ar_victim")
    p_sub = params.num("reports.substantiation")
    sub_repeat = params.num("reports.substantiation_repeat_multiplier")
    p_victim = params.num("reports.victim_given_substantiated")
    p_indicated = params.num("reports.indicated_share")
    p_remove = params.num("removal.victim")
    infant_mult = params.num("removal.infant_multiplier")
    p_remove_other = params.num("removal.nonvictim")
    p_same_day = params.num("removal.same_day")
    history = params.num("reports.history_multiplier")
    other_levels = np.array([5, 7, 9, 6])
    other_cdf = _cdf([0.86, 0.07, 0.06, 0.01])

    n_years = len(window.bounds) - 1
    referrals = np.zeros(n_years, dtype=np.int64)
    screened_in = np.zeros(n_years, dtype=np.int64)
    rep_hh: list[np.ndarray] = []
    rep_day: list[np.ndarray] = []
    row_rep: list[np.ndarray] = []
    row_child: list[np.ndarray] = []
    row_level: list[np.ndarray] = []
    episodes: list[list[np.ndarray]] = []
    n_reports = 0
    while active.size:
        t_c = t_cur[active] + rng.exponential(1.0, active.size) / (lam_unit[active] * mult[active])
        keep = t_c < np.minimum(window.end, last_out[active])
        active, t_c = active[keep], t_c[keep]
        if not active.size:
            break
        t_cur[active] = t_c
        counts = kid_count[active]
        owner = np.repeat(np.arange(active.size), counts)
        kids = np.repeat(kid_start[active], counts) + _group_offsets(counts)
        t_kid = t_c[owner]
        age_days = t_kid - dob[kids]
        elig = (age_days >= 0) & (age_days < AGE18) & (home_from[kids] <= t_kid)
        age_y = np.clip((age_days / YEAR).astype(np.int64), 0, 17)
        contrib = np.where(elig, profile[age_y], 0.0)
        lam = np.bincount(owner, contrib, minlength=active.size)
        accept = rng.random(active.size) * hmax * counts < lam
        n_acc = int(accept.sum())
        if not n_acc:
            continue
        year = window.year_of(np.floor(t_c))
        referrals += np.bincount(year[accept], minlength=n_years)[:n_years]
        screened = accept & (rng.random(active.size) < p_screen)
        n_scr = int(screened.sum())
        if not n_scr:
            continue
        screened_in += np.bincount(year[screened], minlength=n_years)[:n_years]
        # Index child: an exponential race weighted by the age hazard picks one eligible child.
        key = np.where(
            contrib > 0, rng.exponential(1.0, kids.size) / np.maximum(contrib, 1e-12), np.inf
        )
        group_first = np.cumsum(counts) - counts
        best = np.minimum.reduceat(key, group_first)
        index_child = key == best[owner]
        on_report = screened[owner] & elig & (index_child | (rng.random(kids.size) < p_incl))
        rep_of_active = np.full(active.size, -1, dtype=np.int64)
        rep_of_active[screened] = n_reports + np.arange(n_scr)
        n_reports += n_scr
        s_hh = active[screened]
        s_day = np.floor(t_c[screened]).astype(np.int64)
        rep_hh.append(s_hh)
        rep_day.append(s_day)
        # Track and finding per report, then per child.
        ar = rng.random(active.size) < p_ar
        sub_p = np.minimum(1.0, p_sub * np.where(prior_victim[active], sub_repeat, 1.0))
        substantiated = ~ar & (rng.random(active.size) < sub_p)
        k = kids[on_report]
        o = owner[on_report]
        n_rows = k.size
        victim = substantiated[o] & (rng.random(n_rows) < p_victim)
        level = np.where(
            ar[o],
            np.where(rng.random(n_rows) < p_ar_victim, 3, 4),
            np.where(
                victim,
                np.where(rng.random(n_rows) < p_indicated, 2, 1),
                other_levels[_categorical(rng, other_cdf, n_rows)],
            ),
        )
        row_rep.append(rep_of_active[o])
        row_child.append(k)
        row_level.append(level)
        # Removal of some children on the report (siblings together, on one day).
        infant = age_days[on_report] < YEAR
        p_rm = np.where(
            level <= 3,
            np.minimum(1.0, p_remove * np.where(infant, infant_mult, 1.0)),
            np.where(ar[o], p_remove_other / 4, p_remove_other),
        )
        delay = np.where(rng.random(active.size) < p_same_day, 0, rng.integers(1, 31, active.size))
        rem_day = np.floor(t_c).astype(np.int64) + delay
        removed = (rng.random(n_rows) < p_rm) & (rem_day[o] < window.end)
        removed &= rem_day[o] < dob[k] + AGE18
        if removed.any():
            rk = k[removed]
            cols, home_again = _episode_chain(
                rng, params, rk, rem_day[o][removed], dob[rk], window.end
            )
            episodes.append(cols)
            home_from[rk] = home_again
        # A screened-in report raises the family's hazard; a victim raises later substantiation.
        mult[s_hh] = history
        hit = np.zeros(active.size, dtype=bool)
        np.logical_or.at(hit, o, level <= 3)
        prior_victim[active[hit]] = True

    empty = np.zeros(0, dtype=np.int64)
    ep = (
        [np.concatenate([e[i] for e in episodes]) for i in range(4)]
        if episodes
        else [empty, empty, empty, empty]
    )
    return {
        "referrals": referrals,
        "screened_in": screened_in,
        "rep_hh": np.concatenate(rep_hh) if rep_hh else empty,
        "rep_day": np.concatenate(rep_day) if rep_day else empty,
        "row_rep": np.concatenate(row_rep) if row_rep else empty,
        "row_child": np.concatenate(row_child) if row_child else empty,
        "row_level": np.concatenate(row_level) if row_level else empty,
        "e_child": ep[0],
        "e_removal": ep[1],
        "e_discharge": ep[2],
        "e_reason": ep[3],
    }


# ---------------------------------------------------------------------------------------------
# 5. placements


def _placements(
    rng: np.random.Generator,
    params: Params,
    e_removal: np.ndarray,
    e_discharge: np.ndarray,
    e_reason: np.ndarray,
    e_age: np.ndarray,
    e_hh: np.ndarray,
    e_county: np.ndarray,
    end: int,
) -> dict[str, np.ndarray]:
    n_ep = len(e_removal)
    closed = e_discharge >= 0
    obs_end = np.where(closed, e_discharge, end)
    length = obs_end - e_removal  # >= 1 for closed episodes, >= 0 for open ones
    # Final special stretch: a trial home visit before reunification, a pre-adoptive home.
    thv = (
        closed
        & (e_reason == 1)
        & (length > 14)
        & (rng.random(n_ep) < params.num("placements.trial_home_visit"))
    )
    thv_len = np.minimum(
        length - 7,
        7 + np.floor(rng.exponential(params.num("placements.thv_mean_days"), n_ep)),
    ).astype(np.int64)
    pre = closed & (e_reason == 3) & (length > 30)
    pre_len = np.minimum(length - 14, 90 + np.floor(rng.exponential(200.0, n_ep))).astype(np.int64)
    special_len = np.where(thv, thv_len, np.where(pre, pre_len, 0))
    main_len = length - special_len

    # Boundaries: (episode, day offset, kind). Kinds: 0 new placement, 1 runaway,
    # 2 temporary stay, 3 back to the placement before, 4 trial home visit, 5 pre-adoptive.
    b_ep: list[np.ndarray] = [np.arange(n_ep)]
    b_off: list[np.ndarray] = [np.zeros(n_ep, dtype=np.int64)]
    b_kind: list[np.ndarray] = [np.zeros(n_ep, dtype=np.int64)]
    rates = np.asarray(params.seq("placements.move_rate_per_1000_days")) / 1000.0
    for lo, hi, rate in ((0, 60, rates[0]), (60, 365, rates[1]), (365, 10**7, rates[2])):
        span = np.clip(main_len - lo, 0, hi - lo)
        n = rng.poisson(rate * span)
        ep = np.repeat(np.arange(n_ep), n)
        off = lo + np.floor(rng.random(ep.size) * span[ep]).astype(np.int64)
        b_ep.append(ep)
        b_off.append(off)
        b_kind.append(np.zeros(ep.size, dtype=np.int64))
    # Respite or hospital stays and runaway spells: a row that is not a placement setting,
    # then back to the same home (kind 3) so that neither counts as a move.
    for row_kind, p, min_age in (
        (2, params.num("placements.temporary_stay"), 0.0),
        (1, params.num("placements.runaway_teen"), 14.0),
    ):
        pick = (rng.random(n_ep) < p) & (e_age >= min_age) & (main_len > 30)
        ep = np.flatnonzero(pick)
        start = 1 + np.floor(rng.random(ep.size) * (main_len[ep] - 20)).astype(np.int64)
        stay = 1 + rng.integers(1, 15, ep.size)
        b_ep += [ep, ep]
        b_off += [start, start + stay]
        b_kind += [np.full(ep.size, row_kind), np.full(ep.size, 3)]
    special = np.flatnonzero(special_len > 0)
    b_ep.append(special)
    b_off.append(main_len[special])
    b_kind.append(np.where(thv[special], 4, 5))
    ep = np.concatenate(b_ep)
    off = np.concatenate(b_off)
    kind = np.concatenate(b_kind)
    # Moves stay strictly inside the main stretch; one boundary per day (the special ending and
    # the removal win, being listed first after sorting by priority).
    valid = (kind >= 4) | (off == 0) | ((off > 0) & (off < main_len[ep]))
    ep, off, kind = ep[valid], off[valid], kind[valid]
    priority = np.select([kind >= 4, off == 0], [0, 0], default=1 + kind)
    order = np.lexsort((priority, off, ep))
    ep, off, kind = ep[order], off[order], kind[order]
    dup = np.zeros(ep.size, dtype=bool)
    dup[1:] = (ep[1:] == ep[:-1]) & (off[1:] == off[:-1])
    ep, off, kind = ep[~dup], off[~dup], kind[~dup]
    # A kind-3 return right after a runaway / temporary start only makes sense after one.
    n_rows = ep.size
    start = e_removal[ep] + off
    last = np.ones(n_rows, dtype=bool)
    last[:-1] = ep[1:] != ep[:-1]
    end_day = np.empty(n_rows, dtype=np.int64)
    end_day[:-1] = start[1:] - 1
    end_day[last] = np.where(closed[ep[last]], e_discharge[ep[last]], -1)

    # Settings of new placements by age band; congregate care for teenagers.
    base = np.asarray(params.seq("placements.first_setting"))
    bands = np.array(
        [
            base * np.array([1, 1.2, 1.2, 0.1, 0.15, 0]),
            base * np.array([1, 1, 1, 1, 1, 0]),
            base * np.array([1, 0.8, 0.7, 2.5, 2.2, 6.0]),
        ]
    )
    cdfs = np.cumsum(bands / bands.sum(axis=1, keepdims=True), axis=1)
    age = e_age[ep]
    band = np.where(age < 6, 0, np.where(age < 14, 1, 2))
    setting = SETTING_CODES[_categorical_rows(rng, cdfs[band])]
    n_pool = 200 + np.zeros(n_rows, dtype=np.int64)
    provider = rng.integers(0, 10**6, n_rows) % np.where(setting == 3, 5000, n_pool)
    # Kin homes belong to the family: one of two relative households per family.
    provider = np.where(setting == 2, e_hh[ep] * 2 + rng.integers(0, 2, n_rows), provider)
    provider = np.where(
        (setting == 3) | (setting == 4) | (setting == 5) | (setting == 6),
        e_county[ep] * 100_000 + provider,
        provider,
    )
    provider_kind = setting.copy()
    temporary = np.zeros(n_rows, dtype=np.int64)
    # Runaway rows: setting 7, no provider. Temporary rows keep the setting, a respite provider.
    run = kind == 1
    setting = np.where(run, 7, setting)
    provider_kind = np.where(run, 7, provider_kind)
    tmp = kind == 2
    temporary[tmp] = 1
    provider_kind = np.where(tmp, 5, provider_kind)
    # Rows of kind 2 and 3 copy the previous placement's setting (and kind 3 its provider):
    # carry forward the last "real" row's index.
    real = (kind == 0) | (kind >= 4)
    idx = np.where(real, np.arange(n_rows), 0)
    np.maximum.accumulate(idx, out=idx)
    back = kind == 3
    setting = np.where(back | tmp, setting[idx], setting)
    provider = np.where(back, provider[idx], provider)
    provider_kind = np.where(back, provider_kind[idx], provider_kind)
    # Trial home visit: the family's own home. Pre-adoptive: often the same foster home.
    th = kind == 4
    setting = np.where(th, 8, setting)
    provider_kind = np.where(th, 8, provider_kind)
    provider = np.where(th, e_hh[ep], provider)
    pa_ = kind == 5
    prev = np.maximum(np.arange(n_rows) - 1, 0)
    same_home = pa_ & (rng.random(n_rows) < params.num("placements.pre_adoptive_same_home"))
    same_home &= np.isin(setting[prev], (2, 3))
    setting = np.where(pa_, 1, setting)
    provider_kind = np.where(same_home, provider_kind[prev], np.where(pa_, 1, provider_kind))
    provider = np.where(
        same_home,
        provider[prev],
        np.where(pa_, e_county[ep] * 100_000 + rng.integers(0, 5000, n_rows), provider),
    )
    # Never two consecutive rows in the same relative home that look like a move.
    return {
        "episode": ep,
        "start": start,
        "end": end_day,
        "setting": setting,
        "temporary": temporary,
        "provider_kind": provider_kind,
        "provider": provider,
    }


# ---------------------------------------------------------------------------------------------
# The chunk


def simulate_chunk(
    params: Params, geo: Geography, window: Window, seed: int, chunk: int, n_households: int
) -> ChunkEvents:
    """Simulate one chunk of households; deterministic in (params, seed, chunk, size)."""
    rng = chunk_rng(seed, chunk, 0)
    hh, ch = _population(rng, params, geo, n_households, window)
    out = _referrals(rng, params, hh, ch, window)
    c_hh, dob = ch["hh"], ch["dob"]

    # Episodes: ordered by child and removal date.
    e_child = np.asarray(out["e_child"])
    order = np.lexsort((np.asarray(out["e_removal"]), e_child))
    e_child = e_child[order]
    e_removal = np.asarray(out["e_removal"])[order]
    e_discharge = np.asarray(out["e_discharge"])[order]
    e_reason = np.asarray(out["e_reason"])[order]
    e_hh = c_hh[e_child]
    e_age = (e_removal - dob[e_child]) / YEAR
    pl = _placements(
        rng,
        params,
        e_removal,
        e_discharge,
        e_reason,
        e_age,
        e_hh,
        hh["county"][e_hh],
        window.end,
    )

    # Reports about children in care (the foster home, not the family, is the subject).
    obs_end = np.minimum(np.where(e_discharge >= 0, e_discharge, window.end), dob[e_child] + AGE18)
    at_risk = np.maximum(0, obs_end - (e_removal + 7))
    n_victim = rng.poisson(params.num("in_care.victim_reports_per_day") * at_risk)
    n_other = rng.poisson(params.num("in_care.other_reports_per_day") * at_risk)
    ic_ep = np.concatenate([np.repeat(np.arange(len(e_child)), n_victim),
                            np.repeat(np.arange(len(e_child)), n_other)])  # fmt: skip
    ic_victim = np.concatenate(
        [np.ones(int(n_victim.sum()), bool), np.zeros(int(n_other.sum()), bool)]
    )
    ic_day = (
        e_removal[ic_ep] + 7 + np.floor(rng.random(ic_ep.size) * at_risk[ic_ep]).astype(np.int64)
    )
    ic_level = np.where(
        ic_victim,
        np.where(rng.random(ic_ep.size) < params.num("reports.indicated_share"), 2, 1),
        5,
    )

    # All reports: household reports then in-care reports; renumbered in date order.
    rep_hh = np.asarray(out["rep_hh"])
    rep_day = np.asarray(out["rep_day"])
    n_hh_rep = rep_hh.size
    row_rep = np.concatenate([np.asarray(out["row_rep"]), n_hh_rep + np.arange(ic_ep.size)])
    row_child = np.concatenate([np.asarray(out["row_child"]), e_child[ic_ep]])
    row_level = np.concatenate([np.asarray(out["row_level"]), ic_level])
    all_day = np.concatenate([rep_day, ic_day])
    all_hh = np.concatenate([rep_hh, e_hh[ic_ep]])
    n_rep = all_day.size
    rank = np.empty(n_rep, dtype=np.int64)
    rank[np.lexsort((np.arange(n_rep), all_day))] = np.arange(n_rep)
    # Types: one primary type per report, sometimes a second type for a child.
    type_cdf = _cdf(params.seq("reports.maltreatment_type"))
    primary = TYPE_CODES[_categorical(rng, type_cdf, n_rep)]
    row_type = primary[row_rep]
    second = rng.random(row_rep.size) < params.num("reports.second_type")
    second_type = TYPE_CODES[_categorical(rng, type_cdf, row_rep.size)]
    second &= second_type != row_type
    r_rep = np.concatenate([row_rep, row_rep[second]])
    r_child = np.concatenate([row_child, row_child[second]])
    r_level = np.concatenate([row_level, row_level[second]])
    r_type = np.concatenate([row_type, second_type[second]])
    # Incident date: a few days before the report, never before birth (nor, in care, before
    # the removal); often not recorded.
    lag = rng.geometric(1.0 / (1.0 + params.num("reports.incident_lag_days")), n_rep) - 1
    floor_day = np.concatenate([np.full(n_hh_rep, -(10**9), dtype=np.int64), e_removal[ic_ep]])
    incident = np.maximum(all_day - lag, floor_day)
    incident = np.where(
        rng.random(n_rep) < params.num("reports.incident_date_missing"), -1, incident
    )
    r_incident = incident[r_rep]
    r_incident = np.where(r_incident >= 0, np.maximum(r_incident, dob[r_child]), -1)
    r_day = all_day[r_rep]
    r_hh = all_hh[r_rep]
    r_report = rank[r_rep]
    order = np.lexsort((r_type, r_child, r_report))

    # Person appearances: each child on a household report, the caregivers named on it, each
    # child at removal (the foster-care record) and each relative caregiver of a kin placement
    # (the home study). The mother is named on the family's first report at least, so every
    # family on the persons file has its mother on it too.
    hh_rows = row_rep < n_hh_rep
    a_child = row_child[hh_rows]
    a_child_day = all_day[row_rep[hh_rows]]
    mother_on = rng.random(n_hh_rep) < 0.95
    _, first_report = np.unique(rep_hh, return_index=True)
    mother_on[first_report] = True
    father_on = hh["father"][rep_hh] & (rng.random(n_hh_rep) < 0.7)
    # One record per kin home and episode, on the day the child first moved in.
    kin_rows = np.flatnonzero(pl["provider_kind"] == 2)
    kin_key = pl["episode"][kin_rows] * (2 * n_households + 2) + pl["provider"][kin_rows]
    _, kin_first = np.unique(kin_key, return_index=True)
    kin_rows = kin_rows[kin_first]
    a_kind = np.concatenate(
        [
            np.zeros(a_child.size, dtype=np.int64),
            np.ones(int(mother_on.sum()), dtype=np.int64),
            np.full(int(father_on.sum()), 2, dtype=np.int64),
            np.zeros(e_child.size, dtype=np.int64),
            np.full(kin_rows.size, 3, dtype=np.int64),
        ]
    )
    a_index = np.concatenate(
        [a_child, rep_hh[mother_on], rep_hh[father_on], e_child, pl["provider"][kin_rows]]
    )
    a_day = np.concatenate(
        [a_child_day, rep_day[mother_on], rep_day[father_on], e_removal, pl["start"][kin_rows]]
    )
    no_report = np.full(e_child.size + kin_rows.size, -1, dtype=np.int64)
    a_report = np.concatenate(
        [rank[row_rep[hh_rows]], rank[:n_hh_rep][mother_on], rank[:n_hh_rep][father_on], no_report]
    )

    # Child-days aged 0-17 per fiscal year, for rates per 1,000 children.
    years = len(window.bounds) - 1
    child_days = []
    for y in range(years):
        lo, hi = window.bounds[y], window.bounds[y + 1]
        overlap = np.clip(np.minimum(dob + AGE18, hi) - np.maximum(dob, lo), 0, None)
        child_days.append(int(overlap.sum()))

    return ChunkEvents(
        chunk=chunk,
        hh_county=hh["county"],
        hh_office=hh["office"],
        hh_race=hh["race"],
        hh_father=hh["father"],
        hh_first_dob=hh["first_dob"],
        c_hh=c_hh,
        c_dob=dob,
        c_sex=ch["sex"],
        c_twin=ch["twin"],
        c_race_unknown=rng.random(len(c_hh)) < params.num("population.race_unknown"),
        r_report=r_report[order],
        r_child=r_child[order],
        r_day=r_day[order],
        r_incident=r_incident[order],
        r_type=r_type[order],
        r_level=r_level[order],
        r_county=hh["county"][r_hh[order]],
        r_office=hh["office"][r_hh[order]],
        e_child=e_child,
        e_removal=e_removal,
        e_discharge=e_discharge,
        e_reason=e_reason,
        p_episode=pl["episode"],
        p_start=pl["start"],
        p_end=pl["end"],
        p_setting=pl["setting"],
        p_temporary=pl["temporary"],
        p_provider_kind=pl["provider_kind"],
        p_provider=pl["provider"],
        a_kind=a_kind,
        a_index=a_index,
        a_day=a_day,
        a_report=a_report,
        stats={
            "referrals": [int(v) for v in np.asarray(out["referrals"])[:years]],
            "screened_in": [int(v) for v in np.asarray(out["screened_in"])[:years]],
            "child_days": child_days,
        },
    )


# ---------------------------------------------------------------------------------------------
# Arrow tables


def ids(prefix: str, chunk: int, local: np.ndarray, width: int = 8) -> pa.Array:
    """String ids ``<prefix><chunk:4><local:width>``: unique across chunks, sortable."""
    digits = pc.utf8_lpad(pc.cast(pa.array(local.astype(np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(f"{prefix}{chunk:04d}", digits, "")


def dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=missing).cast(pa.date32())


def codes(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int16), type=pa.int16(), mask=missing)


def race_flags(race: np.ndarray, unknown: np.ndarray) -> dict[str, np.ndarray]:
    """AFCARS race flags from the household category (Hispanic children are coded white)."""
    known = ~unknown
    return {
        "race_amiakn": known & (race == 4),
        "race_asian": known & (race == 3),
        "race_blkafram": known & ((race == 1) | (race == 6)),
        "race_hawaiipi": known & (race == 5),
        "race_white": known & ((race == 0) | (race == 2) | (race == 6)),
        "race_unknown": unknown,
    }


def chunk_tables(events: ChunkEvents, geo: Geography) -> dict[str, pa.Table]:
    """The four federal-shaped tables of one chunk, in the canonical Arrow types."""
    ev = events
    involved = np.unique(np.concatenate([ev.r_child, ev.e_child]))
    child_race = ev.hh_race[ev.c_hh[involved]]
    unknown = ev.c_race_unknown[involved]
    children = {
        "child_id": ids("C", ev.chunk, involved, 7),
        "date_of_birth": dates(ev.c_dob[involved]),
        "sex": codes(ev.c_sex[involved]),
        **{name: codes(flag) for name, flag in race_flags(child_race, unknown).items()},
        "hispanic": codes(np.where(unknown, 3, np.where(child_race == 2, 1, 2))),
    }
    county_codes = pa.array(geo.county_code)
    office_codes = pa.array(geo.office_code)
    circuit_codes = pa.array(geo.county_circuit)

    def where(county: np.ndarray, office: np.ndarray) -> dict[str, pa.Array]:
        return {
            "county": pc.take(county_codes, pa.array(county)),
            "office": pc.take(office_codes, pa.array(office)),
            "circuit": pc.take(circuit_codes, pa.array(county)),
        }

    e_hh = ev.c_hh[ev.e_child]
    open_ = ev.e_discharge < 0
    episodes = {
        "child_id": ids("C", ev.chunk, ev.e_child, 7),
        "removal_date": dates(ev.e_removal),
        "discharge_date": dates(ev.e_discharge, open_),
        "discharge_reason": codes(ev.e_reason, open_),
        **where(ev.hh_county[e_hh], ev.hh_office[e_hh]),
    }
    pe = ev.p_episode
    prefix = np.array(["", "A", "K", "F", "G", "I", "S", "", "H"])[ev.p_provider_kind]
    provider = pc.binary_join_element_wise(
        pa.array(prefix),
        pc.utf8_lpad(pc.cast(pa.array(ev.p_provider), pa.string()), 9, "0"),
        f"{ev.chunk:04d}",
    )
    no_provider = ev.p_provider_kind == 7
    provider = pc.if_else(pa.array(no_provider), pa.scalar(None, pa.string()), provider)
    placements = {
        "child_id": ids("C", ev.chunk, ev.e_child[pe], 7),
        "removal_date": dates(ev.e_removal[pe]),
        "start_date": dates(ev.p_start),
        "end_date": dates(ev.p_end, ev.p_end < 0),
        "setting": codes(ev.p_setting),
        "temporary": codes(ev.p_temporary),
        "provider_id": provider,
    }
    reports = {
        "report_id": ids("R", ev.chunk, ev.r_report, 8),
        "child_id": ids("C", ev.chunk, ev.r_child, 7),
        "report_date": dates(ev.r_day),
        "incident_date": dates(ev.r_incident, ev.r_incident < 0),
        "maltreatment_type": codes(ev.r_type),
        "maltreatment_level": codes(ev.r_level),
        **where(ev.r_county, ev.r_office),
    }
    return {
        "children": pa.table(children),
        "episodes": pa.table(episodes),
        "placements": pa.table(placements),
        "reports": pa.table(reports),
    }
