"""The seven CFSR Round 4 statewide data indicators, written once in Ibis.

Every indicator is built as a *unit table*: one row per counted unit (a child, an episode, or a
victimization) with its numerator and denominator contribution and its breakdown groups. All
seven unit tables are unioned and aggregated in a single query, so DuckDB and Spark each see one
plan and the work stays in the engine. DEFINITIONS.md explains every rule and cites the data
dictionary; comments here only say why the code is shaped the way it is.

Dates are turned into whole day numbers (days since 1970-01-01) inside the engine, so the rules
are integer arithmetic that every backend evaluates the same way. Events happen at mid-day and
the period runs from 00:00 of its first day to 24:00 of its last, so the overlap of a stay with P
is computed in half-days (2·day + 1 for an event, 2·day for midnight) and rounded down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

# A day number later than any real date: stands for "still in care" / "never turns 18".
FAR_FUTURE = 10_000_000

PERMANENCY_REASONS = (1, 2, 3, 5)  # reunification, relative, adoption, guardianship
REENTRY_EXIT_REASONS = (1, 2, 5)  # reunification, relative, guardianship
VICTIM_LEVELS = (1, 2)  # substantiated, indicated
REUNIFICATION = 1
THV_SETTING = 8
RUNAWAY_SETTING = 7
THV_CREDIT_DAYS = 30
SHORT_STAY_DAYS = 8
FIRST_DAYS_EXCLUDED = 7
RECURRENCE_MIN_GAP = 14
SAME_VICTIMIZATION_GAP = 1
YEAR_WINDOW = 365

INDICATORS = (
    "maltreatment_in_care",
    "recurrence",
    "permanency_12_entries",
    "permanency_12_23",
    "permanency_24_plus",
    "reentry_12",
    "placement_stability",
)

BREAKDOWNS = ("county", "office", "circuit", "age_group", "race", "sex")
# Breakdowns that come from where an episode or a report was handled.
WHERE_COLUMNS = ("county", "office", "circuit")


@dataclass(frozen=True)
class Period:
    """A 12-month period P: ``start`` to ``end`` inclusive."""

    start: dt.date
    end: dt.date

    @classmethod
    def starting(cls, start: dt.date) -> Period:
        # A period starting on 29 February ends on 28 February of the next year.
        try:
            next_start = start.replace(year=start.year + 1)
        except ValueError:
            next_start = dt.date(start.year + 1, 3, 1)
        return cls(start=start, end=next_start - dt.timedelta(days=1))

    def shifted_years(self, years: int) -> Period:
        try:
            start = self.start.replace(year=self.start.year + years)
        except ValueError:
            start = dt.date(self.start.year + years, 3, 1)
        return Period.starting(start)


def day_number(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


def day_to_date(value: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=value)


# Days after the end of P up to which data must exist before an indicator can be computed:
# the last cohort member's follow-up window must have closed.
FOLLOW_UP_DAYS = {
    "maltreatment_in_care": 0,
    "recurrence": YEAR_WINDOW,
    "permanency_12_entries": YEAR_WINDOW - 1,
    "permanency_12_23": 0,
    "permanency_24_plus": 0,
    # an exit on the last day of P, then up to 365 days to re-enter
    "reentry_12": YEAR_WINDOW,
    "placement_stability": 0,
}


def _label(column: ir.Value) -> ir.StringValue:
    text = column.cast("string")
    return ibis.cases((text.isnull() | (text == ""), "unknown"), else_=text)


def _yyyymmdd(value: ir.DateValue) -> ir.IntegerValue:
    return value.year() * 10_000 + value.month() * 100 + value.day()


AGE_GROUPS = ("<1", "1-5", "6-10", "11-16", "17+")
AGE_GROUP_STARTS = (1, 6, 11, 17)  # the first age of each band after the first


def _age_band(dob: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    """The index in :data:`AGE_GROUPS` of the age band on a date (missing with the date of
    birth): the bands the CFSR data profiles use.

    Whole years of age: YYYYMMDD numbers compare as (year, month, day), so the child is at
    least ``k`` years old when the difference is at least ``k`` × 10,000 (a birthday reached
    counts; a 29 February birthday is reached on 1 March in other years). The band is the number
    of band starts reached. The unit rows carry this number and only the aggregated rows get
    their label (:func:`_age_group_label`): a label per unit row, as a CASE per band, costs more
    than any other expression of the query at national scale.
    """
    difference = _yyyymmdd(on) - _yyyymmdd(dob)
    return sum((difference >= start * 10_000).cast("int64") for start in AGE_GROUP_STARTS)


def _age_group_label(band: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*((band == i, label) for i, label in enumerate(AGE_GROUPS)), else_="unknown")


RACE_FLAGS = {
    "race_amiakn": "American Indian or Alaska Native",
    "race_asian": "Asian",
    "race_blkafram": "Black or African American",
    "race_hawaiipi": "Native Hawaiian or Other Pacific Islander",
    "race_white": "White",
}


def _b18(dob: ir.DateValue) -> ir.IntegerValue:
    # The 18th birthday acts as a discharge; a 29 February birthday falls on 28 February.
    return (dob + ibis.interval(years=18)).epoch_days()


def _race(children: ir.Table) -> ir.StringValue:
    flags = RACE_FLAGS
    count = sum((children[c] == 1).cast("int64").fill_null(0) for c in flags)
    single = [((children[c] == 1), name) for c, name in flags.items()]
    # Federal reporting convention: Hispanic of any race first, then two or more races.
    return ibis.cases(
        (children.hispanic == 1, "Hispanic (any race)"),
        (count > 1, "Two or more races"),
        *single,
        else_="unknown",
    )


def _sex(children: ir.Table) -> ir.StringValue:
    return ibis.cases((children.sex == 1, "male"), (children.sex == 2, "female"), else_="unknown")


def _child_labels(children: ir.Table, base: Base) -> dict[str, ir.StringValue]:
    """The race / sex breakdown labels of joined children rows, for the breakdowns carried."""
    labels = {"race": _race, "sex": _sex}
    return {name: label(children) for name, label in labels.items() if name in base.breakdowns}


@dataclass
class Base:
    """The four input tables, with the columns (and day numbers) the rules use.

    ``breakdowns`` are the breakdown columns the unit tables carry (age group is always there):
    a column no breakdown asks for is never read, which at scale is most of the children table
    and of the reports' text columns.
    """

    children: ir.Table
    episodes: ir.Table
    placements: ir.Table
    reports: ir.Table
    breakdowns: tuple[str, ...] = tuple(c for c in BREAKDOWNS if c != "age_group")

    @property
    def where(self) -> tuple[str, ...]:
        """The county / office / circuit columns carried."""
        return tuple(c for c in WHERE_COLUMNS if c in self.breakdowns)


Tables = Mapping[str, "pa.Table | ir.Table"]


def as_table(table: pa.Table | ir.Table) -> ir.Table:
    """An Ibis table: Arrow tables become in-memory tables, Ibis tables (e.g. over the Parquet
    files, from :func:`kinfolk.federal.tables.open_tables`) are used as they are."""
    return table if isinstance(table, ir.Table) else ibis.memtable(table)


def breakdown_columns(by: str | None) -> tuple[str, ...]:
    """The breakdown columns a query grouped by ``by`` needs (age group is always carried)."""
    if by is None or by == "age_group":
        return ()
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}: use one of {', '.join(BREAKDOWNS)}")
    return (by,)


def base_tables(tables: Tables, breakdowns: tuple[str, ...] | None = None) -> Base:
    """The inputs with the columns the rules use, and the ``breakdowns`` columns (default: every
    breakdown; see :func:`breakdown_columns`)."""
    kept = Base.breakdowns if breakdowns is None else tuple(breakdowns)
    raw_children = as_table(tables["children"])
    # Derived child attributes (18th birthday, race, sex labels) are computed after each join,
    # on the joined rows only: computing them for every child first costs far more at scale.
    # The children are one named relation (a CTE), so the episodes, the recurrence cohort and
    # the data-quality checks join to one read of the table (the largest but the reports); as
    # a plain projection Ibis inlines it into each join and the file is read three times. The
    # name says which columns it holds, so two bases in one query never name two relations alike.
    child_breakdowns = [c for c in ("race", "sex") if c in kept]
    children = raw_children.select(
        "child_id",
        *(("hispanic", *RACE_FLAGS) if "race" in kept else ()),
        *(("sex",) if "sex" in kept else ()),
        dob=raw_children.date_of_birth,
    ).alias("_".join(["kinfolk_children_read", *child_breakdowns]))
    where = [c for c in WHERE_COLUMNS if c in kept]
    raw_episodes = as_table(tables["episodes"])
    episodes = raw_episodes.select(
        child_id=raw_episodes.child_id,
        removal_date=raw_episodes.removal_date,
        discharge_date=raw_episodes.discharge_date,
        r=raw_episodes.removal_date.epoch_days(),
        d=raw_episodes.discharge_date.epoch_days(),
        reason=raw_episodes.discharge_reason.cast("int64"),
        **{c: _label(raw_episodes[c]) for c in where},
    )
    raw_placements = as_table(tables["placements"])
    placements = raw_placements.select(
        child_id=raw_placements.child_id,
        removal_day=raw_placements.removal_date,
        r=raw_placements.removal_date.epoch_days(),
        start=raw_placements.start_date.epoch_days(),
        setting=raw_placements.setting.cast("int64"),
        temporary=raw_placements.temporary.cast("int64"),
        provider_id=raw_placements.provider_id,
    )
    raw_reports = as_table(tables["reports"])
    reports = raw_reports.select(
        child_id=raw_reports.child_id,
        report_day=raw_reports.report_date,
        rd=raw_reports.report_date.epoch_days(),
        inc=raw_reports.incident_date.epoch_days(),
        # Left uncast so a filter on it reaches the Parquet scan.
        level=raw_reports.maltreatment_level,
        **{c: _label(raw_reports[c]) for c in where},
    )
    return Base(children, episodes, placements, reports, kept)


def _tag(day: int) -> str:
    """A day number as part of a relation's name (a CTE named after the period it holds)."""
    return f"{'m' if day < 0 else ''}{abs(day)}"


def _on_or_after(column: ir.DateValue, day: int) -> ir.BooleanValue:
    # Compared as dates, not day numbers, so DuckDB pushes the filter into the Parquet scan.
    return column >= ibis.literal(day_to_date(day), type="date")


def _on_or_before(column: ir.DateValue, day: int) -> ir.BooleanValue:
    return column <= ibis.literal(day_to_date(day), type="date")


def episodes_with_child(base: Base) -> ir.Table:
    """Episodes joined to their child, with the effective end (discharge or 18th birthday)."""
    e, c = base.episodes, base.children
    joined = e.left_join(c, e.child_id == c.child_id).select(
        e.child_id,
        e.removal_date,
        e.discharge_date,
        e.r,
        e.d,
        e.reason,
        *(e[w] for w in base.where),
        c.dob,
        b18=_b18(c.dob).fill_null(FAR_FUTURE),
        # False for an episode whose child is not in the children table (a reference check).
        known=c.child_id.notnull(),
        **_child_labels(c, base),
    )
    d_open = joined.d.fill_null(FAR_FUTURE)
    return joined.mutate(
        d_open=d_open,
        end=ibis.least(d_open, joined.b18),
        short=joined.d.notnull() & ((joined.d - joined.r) < SHORT_STAY_DAYS),
    )


def _days_in_period(r: ir.IntegerValue, end: ir.IntegerValue, ps: int, pe: int) -> ir.IntegerValue:
    """Whole days of a stay [r, end] (mid-day events) inside [ps 00:00, pe 24:00]."""
    start2 = ibis.cases((r >= ps, r * 2 + 1), else_=ps * 2)
    end2 = ibis.cases((end <= pe, end * 2 + 1), else_=pe * 2 + 2)
    span = end2 - start2
    return ibis.cases((span > 0, span // 2), else_=0).cast("int64")


def _units(
    base: Base,
    indicator: str,
    table: ir.Table,
    num: ir.IntegerValue,
    den: ir.IntegerValue,
    age_on: ir.DateValue | dt.date,
) -> ir.Table:
    age_date = age_on if isinstance(age_on, ir.Value) else ibis.literal(age_on, type="date")
    # Every unit table has the same columns (in BREAKDOWNS order), so they union.
    columns = {
        name: (_age_band(table.dob, age_date) if name == "age_group" else table[name])
        for name in BREAKDOWNS
        if name == "age_group" or name in base.breakdowns
    }
    return table.select(
        indicator=ibis.literal(indicator),
        **columns,
        num=num.cast("int64"),
        den=den.cast("int64"),
    )


def report_window(period: Period) -> tuple[int, int]:
    """The report dates (day numbers) the report indicators read: from the start of P to 365
    days after its end. Maltreatment in care needs those in P; recurrence's initial reports lie
    in P and the later ones at most 365 days after them, so nothing outside can matter."""
    ps, pe = day_number(period.start), day_number(period.end)
    return ps, pe + YEAR_WINDOW


def victims_with_child(base: Base, window: tuple[int, int]) -> ir.Table:
    """The victim report rows (maltreatment level 1 or 2) dated in ``window`` (see
    :func:`report_window`), with their child's date of birth.

    ``known`` says whether the child is in the children table. One named relation (a CTE):
    maltreatment in care, recurrence and the report data-quality checks all read it, so the
    reports are read once and joined to the children once. Only the window's rows are joined:
    at national scale joining every victim row of every year to the children costs more than
    half a second.

    The table has a row per maltreatment of a report, and these rows are not made distinct:
    both indicators are indifferent to repeated rows (maltreatment in care counts distinct
    days, recurrence one initial row per child and whether any later row exists), and a
    DISTINCT over the victim rows is one of the larger costs at national scale.
    """
    r, c = base.reports, base.children
    first, last = window
    # Compared as dates, so the filter reaches the Parquet scan.
    victim = r.filter(
        r.level.isin(VICTIM_LEVELS),
        _on_or_after(r.report_day, first),
        _on_or_before(r.report_day, last),
    )
    joined = victim.left_join(c, victim.child_id == c.child_id).select(
        victim.child_id,
        victim.rd,
        victim.inc,
        victim.report_day,
        *(victim[w] for w in base.where),
        c.dob,
        known=c.child_id.notnull(),
        **_child_labels(c, base),
    )
    # The name says which columns and which window it holds, as the children's does.
    return joined.alias("_".join(["kinfolk_victims", *base.breakdowns, *map(_tag, window)]))


def _maltreatment_in_care(base: Base, victim: ir.Table, ep: ir.Table, ps: int, pe: int) -> ir.Table:
    eps = ep.filter(~ep.short, ep.r < ep.b18, ep.r <= pe, ep.end >= ps)
    eps = eps.mutate(days=_days_in_period(eps.r, eps.end, ps, pe))
    # ``victim`` reaches a year past P; the "in P" test is a join condition below, not a filter
    # here, so both indicators share one scan of the reports (Ibis would otherwise push the
    # filter down and give each indicator its own).
    rep = victim.select("child_id", "rd", "inc")
    matched = rep.join(
        eps,
        [
            rep.child_id == eps.child_id,
            rep.rd <= pe,
            (rep.rd - eps.r) >= FIRST_DAYS_EXCLUDED,
            rep.rd < eps.end,
            rep.inc.isnull() | ((rep.inc >= eps.r) & (rep.inc < eps.d_open)),
        ],
    ).select(
        rep.child_id,
        rep.rd,
        eps.removal_date,
        eps.dob,
        *(eps[c] for c in base.breakdowns),
    )
    # Reports on the same day are one victimization (episodes do not overlap, so one day lies in
    # one episode); then, in a run of consecutive days, a report one day after a *counted* one is
    # the same victimization, so every other day of the run counts.
    days = matched.distinct()
    ordered = ibis.window(group_by=days.child_id, order_by=days.rd)
    days = days.mutate(island=days.rd - ibis.row_number().over(ordered))
    island = ibis.window(group_by=[days.child_id, days.island])
    days = days.mutate(island_start=days.rd.min().over(island))
    counted = days.filter(((days.rd - days.island_start) % (SAME_VICTIMIZATION_GAP + 1)) == 0)
    period_start = ibis.literal(day_to_date(ps), type="date")
    denominator = _units(
        base,
        "maltreatment_in_care",
        eps,
        ibis.literal(0),
        eps.days,
        ibis.greatest(eps.removal_date, period_start),
    )
    # A victimization is grouped with the episode it happened in, with the episode's age group.
    numerator = _units(
        base,
        "maltreatment_in_care",
        counted,
        ibis.literal(1),
        ibis.literal(0),
        ibis.greatest(counted.removal_date, period_start),
    )
    return denominator.union(numerator)


def _recurrence(base: Base, victim: ir.Table, ps: int, pe: int) -> ir.Table:
    in_p = victim.filter(victim.rd >= ps, victim.rd <= pe)
    # The child's victim rows on its first report day in P are the initial victimization. The
    # one that gives the initial report's place, for a breakdown, is the first in county /
    # office / circuit order; report ids are arbitrary labels and decide nothing.
    first = ibis.window(group_by=in_p.child_id, order_by=[in_p.rd, *(in_p[w] for w in base.where)])
    marked = in_p.mutate(
        rank=ibis.row_number().over(first),
        first_rd=in_p.rd.min().over(ibis.window(group_by=in_p.child_id)),
    ).alias(f"kinfolk_recurrence_first_{_tag(ps)}")
    initial = marked.filter(marked.rank == 0)
    # A report dated before the child's birth (a prenatal report) cannot start the cohort.
    initial = initial.filter(initial.dob.isnull() | (initial.rd >= initial.dob.epoch_days()))
    # The victim rows 15 to 365 days after the initial report...
    later = victim.select(child_id2=victim.child_id, rd2=victim.rd, inc2=victim.inc)
    candidates = initial.join(
        later,
        [
            initial.child_id == later.child_id2,
            (later.rd2 - initial.rd) > RECURRENCE_MIN_GAP,
            (later.rd2 - initial.rd) <= YEAR_WINDOW,
        ],
    ).select(c_child=initial.child_id, c_inc=later.inc2)
    # ...except a later report of an incident reported on the initial day (the same incident
    # date as any of that day's rows): the same incident, not a recurrence. A missing incident
    # date matches nothing. The few candidates are compared, not every victim row.
    incidents = marked.filter(marked.rd == marked.first_rd, marked.inc.notnull()).select(
        i_child=marked.child_id, i_inc=marked.inc
    )
    recurred = (
        candidates.anti_join(
            incidents,
            [candidates.c_child == incidents.i_child, candidates.c_inc == incidents.i_inc],
        )
        .select(hit_child=candidates.c_child)
        .distinct()
    )
    flagged = initial.left_join(recurred, initial.child_id == recurred.hit_child)
    return _units(
        base,
        "recurrence",
        flagged,
        flagged.hit_child.notnull().cast("int64"),
        ibis.literal(1),
        flagged.report_day,
    )


def _placements_of_entries(base: Base, ps: int, pe: int) -> ir.Table:
    """Placements of episodes that begin in P (all the entry cohorts need), filtered on the
    removal date so the filter reaches the Parquet scan."""
    p = base.placements
    entries = p.filter(_on_or_after(p.removal_day, ps), _on_or_before(p.removal_day, pe))
    # Named (a CTE), so the trial-home-visit adjustment and placement stability share one scan.
    return entries.alias(f"kinfolk_entry_placements_{_tag(ps)}")


def _thv_adjusted_discharge(base: Base, ep: ir.Table, ps: int, pe: int) -> ir.Table:
    """Add ``d_adj``: discharge moved back to THV start + 30 days after a long trial home visit.

    ``ep`` holds episodes that begin in P only."""
    p = _placements_of_entries(base, ps, pe)
    last = p.group_by([p.child_id, p.r]).aggregate(last_start=p.start.max())
    last_row = p.join(
        last, [p.child_id == last.child_id, p.r == last.r, p.start == last.last_start]
    ).select(k_child=p.child_id, k_r=p.r, last_setting=p.setting, last_start=p.start)
    joined = ep.left_join(last_row, [ep.child_id == last_row.k_child, ep.r == last_row.k_r])
    long_thv = (
        (joined.reason == REUNIFICATION)
        & (joined.last_setting == THV_SETTING)
        & joined.d.notnull()
        & ((joined.d - joined.last_start) > THV_CREDIT_DAYS)
    )
    return joined.mutate(
        d_adj=ibis.cases((long_thv, joined.last_start + THV_CREDIT_DAYS), else_=joined.d)
    ).drop("k_child", "k_r", "last_setting", "last_start")


def _reasonless_discharge(ep: ir.Table, in_window: ir.BooleanValue) -> ir.BooleanValue:
    """A discharge with no reason, dated where its reason would decide the numerator (inside
    the indicator's window and before the 18th birthday): the dictionary excludes "children
    without a discharge reason" from the permanency indicators. A reasonless discharge after the
    window cannot change the figure, so that child stays in (as not discharged in time)."""
    return (ep.d.notnull() & ep.reason.isnull() & in_window & (ep.d < ep.b18)).fill_null(False)


def _permanency_entries(base: Base, ep: ir.Table, ps: int, pe: int) -> ir.Table:
    entries = ep.filter(ep.r >= ps, ep.r <= pe)
    first = ibis.window(group_by=entries.child_id, order_by=entries.r)
    entries = entries.mutate(rank=ibis.row_number().over(first)).filter(lambda t: t.rank == 0)
    cohort = entries.filter(
        ~entries.short,
        entries.r < entries.b18,
        ~_reasonless_discharge(entries, (entries.d - entries.r) < YEAR_WINDOW),
    )
    cohort = _thv_adjusted_discharge(base, cohort, ps, pe)
    achieved = (
        cohort.reason.isin(PERMANENCY_REASONS)
        & cohort.d.notnull()
        & ((cohort.d_adj - cohort.r) < YEAR_WINDOW)
        & (cohort.d < cohort.b18)
    )
    return _units(
        base,
        "permanency_12_entries",
        cohort,
        achieved.cast("int64"),
        ibis.literal(1),
        cohort.removal_date,
    )


def _months_in_care(removal: ir.DateValue, on: dt.date) -> ir.IntegerValue:
    """Whole calendar months from removal to ``on``."""
    day_short = (removal.day() > on.day).cast("int64")
    return ((on.year - removal.year()) * 12 + (on.month - removal.month()) - day_short).cast(
        "int64"
    )


def _permanency_in_care(
    base: Base, ep: ir.Table, ps: int, pe: int, start: dt.date, low: int, high: int | None
) -> ir.Table:
    in_care = ep.filter(ep.r < ps, ep.d_open >= ps, ep.b18 > ps)
    in_care = in_care.mutate(months=_months_in_care(in_care.removal_date, start))
    cohort = in_care.filter(in_care.months >= low, ~_reasonless_discharge(in_care, in_care.d <= pe))
    if high is not None:
        cohort = cohort.filter(cohort.months <= high)
    achieved = (
        cohort.reason.isin(PERMANENCY_REASONS)
        & cohort.d.notnull()
        & (cohort.d <= pe)
        & (cohort.d < cohort.b18)
    )
    name = "permanency_12_23" if high is not None else "permanency_24_plus"
    return _units(base, name, cohort, achieved.cast("int64"), ibis.literal(1), start)


def _reentry(base: Base, ep: ir.Table, ps: int, pe: int) -> ir.Table:
    """Children who exit to permanency in P (an exit cohort), and who re-enter within a year.

    The cohort exit is the child's first discharge in P to reunification, a relative or
    guardianship before the 18th birthday (the birthday is a discharge with no such reason). A
    child with a discharge in P that has no reason, on or before that exit, is excluded: it is
    not known whether that earlier discharge was the first exit to permanency.
    """
    discharged = ep.filter(ep.d.notnull(), ep.d >= ps, ep.d <= pe, ep.d < ep.b18)
    exits = discharged.filter(discharged.reason.isin(REENTRY_EXIT_REASONS))
    first = ibis.window(group_by=exits.child_id, order_by=[exits.d, exits.r])
    exits = exits.mutate(rank=ibis.row_number().over(first)).filter(lambda t: t.rank == 0)
    unknown = discharged.filter(discharged.reason.isnull())
    unknown = unknown.group_by(unknown.child_id.name("u_child")).aggregate(
        first_unknown=unknown.d.min()
    )
    exits = exits.left_join(unknown, exits.child_id == unknown.u_child)
    exits = exits.filter(exits.first_unknown.isnull() | (exits.first_unknown > exits.d)).drop(
        "u_child", "first_unknown"
    )
    # Named, so the cohort's windows and joins run once for its two uses below.
    exits = exits.alias(f"kinfolk_exits_{_tag(ps)}")
    # A removal before the discharge is not a re-entry (the dictionary drops such records); one
    # on the discharge day is. Several re-entries of a child count once.
    later = ep.select(child_id2=ep.child_id, r2=ep.r)
    hits = (
        exits.join(
            later,
            [
                exits.child_id == later.child_id2,
                later.r2 > exits.r,
                later.r2 >= exits.d,
                (later.r2 - exits.d) <= YEAR_WINDOW,
            ],
        )
        .select(hit_child=exits.child_id)
        .distinct()
    )
    flagged = exits.left_join(hits, exits.child_id == hits.hit_child)
    # Grouped by age at exit, the dictionary's risk-adjustment variable for this indicator.
    return _units(
        base,
        "reentry_12",
        flagged,
        flagged.hit_child.notnull().cast("int64"),
        ibis.literal(1),
        flagged.discharge_date,
    )


def _placement_stability(base: Base, ep: ir.Table, ps: int, pe: int) -> ir.Table:
    p = _placements_of_entries(base, ps, pe)
    eps = ep.filter(ep.r >= ps, ep.r <= pe, ~ep.short, ep.r < ep.b18)
    # "Days in care where placement information cannot be determined" are excluded: an episode
    # with no placement row at all (runaway, THV and temporary rows are placement information
    # too) adds neither days nor moves.
    eps = eps.semi_join(p, [eps.child_id == p.child_id, eps.r == p.r])
    eps = eps.mutate(days=_days_in_period(eps.r, eps.end, ps, pe))
    # Runaway, trial home visit and temporary stays are not placement settings: moving onto or
    # off them is not a move, so they are dropped before consecutive settings are compared.
    settings = p.filter(
        ~p.setting.isin((RUNAWAY_SETTING, THV_SETTING)), p.temporary.fill_null(0) == 0
    )
    order = ibis.window(group_by=[settings.child_id, settings.r], order_by=settings.start)
    settings = settings.mutate(
        rank=ibis.row_number().over(order),
        previous_provider=settings.provider_id.lag().over(order),
    )
    same_home = (
        settings.provider_id.notnull()
        & settings.previous_provider.notnull()
        & (settings.provider_id == settings.previous_provider)
    )
    moves = settings.filter(settings.rank > 0, ~same_home)
    counted = moves.join(
        eps,
        [
            moves.child_id == eps.child_id,
            moves.r == eps.r,
            moves.start <= pe,
            moves.start < eps.end,
        ],
    )
    per_episode = counted.group_by(
        [counted.child_id.name("m_child"), counted.r.name("m_r")]
    ).aggregate(moves=counted.count())
    joined = eps.left_join(
        per_episode, [eps.child_id == per_episode.m_child, eps.r == per_episode.m_r]
    )
    return _units(
        base,
        "placement_stability",
        joined,
        joined.moves.fill_null(0),
        joined.days,
        joined.removal_date,
    )


def unit_tables(tables: Tables, period: Period, *, base: Base | None = None) -> dict[str, ir.Table]:
    """One unit table per indicator for period P (lazy Ibis expressions).

    ``base`` (from :func:`base_tables`) lets another query over the same inputs share its
    nodes, so one compiled query reads each input once.
    """
    base = base if base is not None else base_tables(tables)
    ep = episodes_with_child(base)
    ps, pe = day_number(period.start), day_number(period.end)
    victim = victims_with_child(base, report_window(period))
    return {
        "maltreatment_in_care": _maltreatment_in_care(base, victim, ep, ps, pe),
        "recurrence": _recurrence(base, victim, ps, pe),
        "permanency_12_entries": _permanency_entries(base, ep, ps, pe),
        "permanency_12_23": _permanency_in_care(base, ep, ps, pe, period.start, 12, 23),
        "permanency_24_plus": _permanency_in_care(base, ep, ps, pe, period.start, 24, None),
        "reentry_12": _reentry(base, ep, ps, pe),
        "placement_stability": _placement_stability(base, ep, ps, pe),
    }


def aggregate(units: Mapping[str, ir.Table], by: str | None) -> ir.Table:
    """Sum numerators and denominators per indicator (and group), in one query."""
    combined: ir.Table | None = None
    for table in units.values():
        combined = table if combined is None else combined.union(table)
    assert combined is not None
    band = combined.age_group
    group = band if by == "age_group" else combined[by] if by is not None else ibis.literal("all")
    # Age group is carried as a stratum too, for the age-standardised approximation.
    grouped = combined.mutate(group=group, stratum=band)
    sums = grouped.group_by(["indicator", "group", "stratum"]).aggregate(
        numerator=grouped.num.sum(), denominator=grouped.den.sum(), units=grouped.count()
    )
    # The unit rows carry the age band's number; only the aggregated rows get its label.
    return sums.mutate(
        group=_age_group_label(sums.group) if by == "age_group" else sums.group,
        stratum=_age_group_label(sums.stratum),
    )
