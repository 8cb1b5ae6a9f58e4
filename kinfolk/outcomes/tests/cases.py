"""Hand-worked table directories, each with its expected numerators and denominators.

Every case is a tiny set of federal-shaped tables written by hand, and the expected figures are
worked out in the comments from the definitions in DEFINITIONS.md, not from the engine. The same
cases run on DuckDB (always) and on PySpark (``-m spark``).

Unless a case says otherwise P is FFY 2022: 2021-10-01 (ps) to 2022-09-30 (pe), 365 days.
Events happen at mid-day; days in care inside P are whole days of the overlap, rounded down.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kinfolk.federal.tables import TABLE_NAMES

FFY2022 = dt.date(2021, 10, 1)

CHILDREN_HEADER = "child_id,date_of_birth,sex,race_white,race_blkafram,hispanic\n"
EPISODES_HEADER = "child_id,removal_date,discharge_date,discharge_reason,county\n"
PLACEMENTS_HEADER = "child_id,removal_date,start_date,end_date,setting,temporary,provider_id\n"
REPORTS_HEADER = (
    "report_id,child_id,report_date,incident_date,maltreatment_type,maltreatment_level,county\n"
)


@dataclass
class Case:
    name: str
    period_start: dt.date
    children: str
    episodes: str = ""
    placements: str = ""
    reports: str = ""
    # Indicator -> (numerator, denominator) expected.
    expected: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The data are complete through this date (an extract date far enough for all follow-ups).
    through: dt.date = dt.date(2025, 12, 31)

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        texts = {
            "children": CHILDREN_HEADER + self.children,
            "episodes": EPISODES_HEADER + self.episodes,
            "placements": PLACEMENTS_HEADER + self.placements,
            "reports": REPORTS_HEADER + self.reports,
        }
        for name in TABLE_NAMES:
            (root / f"{name}.csv").write_text(texts[name], encoding="utf-8")
        return root


DAYS_IN_CARE = Case(
    name="days_in_care",
    period_start=FFY2022,
    children=(
        "a,2015-01-01,1,1,0,2\n"
        "b,2015-01-01,2,1,0,2\n"
        "c,2015-01-01,1,0,1,2\n"
        "d,2015-01-01,2,0,1,2\n"
        "e,2015-01-01,1,1,0,1\n"
        "f,2015-01-01,2,1,0,2\n"
        "g,2004-03-15,1,1,0,2\n"
        "h,2015-01-01,1,1,0,2\n"
        "i,2015-01-01,1,1,0,2\n"
    ),
    episodes=(
        # a: removed and discharged inside P: 2021-12-01 - 2021-11-01 = 30 days
        "a,2021-11-01,2021-12-01,1,Leon\n"
        # b: in care before, during and after P: all 365 days of P
        "b,2020-05-01,,,Leon\n"
        # c: in care before P, discharged 2021-10-11: 10 days (Oct 1..10 whole, Oct 11 half)
        "c,2021-06-01,2021-10-11,1,Leon\n"
        # d: removed 2022-09-01, still in care: pe - R = 29 days
        "d,2022-09-01,,,Wakulla\n"
        # e: 7-day stay (2022-01-10 to 01-17) is short: excluded, 0 days
        "e,2022-01-10,2022-01-17,1,Wakulla\n"
        # f: 8-day stay is not short: 8 days
        "f,2022-02-01,2022-02-09,1,Wakulla\n"
        # g: turns 18 on 2022-03-15, which acts as a discharge: 2022-03-15 - 2021-10-01 = 165
        "g,2021-01-01,,,Leon\n"
        # h: removed at mid-day on the last day of P: 0 whole days
        "h,2022-09-30,,,Leon\n"
        # i: a 1-day stay across the period start: short, excluded
        "i,2021-09-30,2021-10-01,1,Leon\n"
    ),
    # One placement each for the entries in P (a, d, e, f, h): no moves, and their days are
    # days with placement information.
    placements=(
        "a,2021-11-01,2021-11-01,2021-12-01,3,0,A\n"
        "d,2022-09-01,2022-09-01,,3,0,D\n"
        "e,2022-01-10,2022-01-10,2022-01-17,3,0,E\n"
        "f,2022-02-01,2022-02-01,2022-02-09,3,0,F\n"
        "h,2022-09-30,2022-09-30,,3,0,H\n"
    ),
    # 30 + 365 + 10 + 29 + 8 + 165 + 0 = 607 days; no reports, so no victimizations.
    # Placement stability: entries in P not short and under 18 at entry: a (30), d (29),
    # f (8), h (0) = 67 days; one placement each, so no moves.
    expected={"maltreatment_in_care": (0, 607), "placement_stability": (0, 67)},
)

MALTREATMENT_IN_CARE = Case(
    name="maltreatment_in_care",
    period_start=FFY2022,
    children=("m,2012-05-05,2,1,0,2\nn,2013-05-05,1,1,0,2\nq,2004-03-15,1,0,1,2\n"),
    episodes=(
        # m: 2021-11-01 to 2022-03-01 = 30 + 31 + 31 + 28 = 120 days
        "m,2021-11-01,2022-03-01,1,Leon\n"
        # n: 2022-09-20, still in care: 10 days
        "n,2022-09-20,,,Leon\n"
        # q: in care all along, 18 on 2022-03-15: 165 days
        "q,2021-01-01,,,Leon\n"
    ),
    reports=(
        # M1 6 days after removal: within the first 7 days, excluded
        "M1,m,2021-11-07,,1,1,Leon\n"
        # M2 7 days after removal: counted (1)
        "M2,m,2021-11-08,,1,1,Leon\n"
        # M3 one day after counted M2: same victimization
        "M3,m,2021-11-09,,1,1,Leon\n"
        # M4 one day after M3, which was not counted; two after M2: counted (2)
        "M4,m,2021-11-10,,1,1,Leon\n"
        # M5 unsubstantiated: not a victim
        "M5,m,2021-12-01,,2,5,Leon\n"
        # M6 two maltreatment rows of one report: one victimization (3)
        "M6,m,2021-12-15,,1,1,Leon\n"
        "M6,m,2021-12-15,,2,2,Leon\n"
        # M7 incident before the removal: outside the episode
        "M7,m,2022-01-10,2021-10-20,2,1,Leon\n"
        # M8 dated on the discharge day: outside the episode
        "M8,m,2022-03-01,,2,1,Leon\n"
        # M10 indicated, incident inside the episode: counted (4)
        "M10,m,2022-02-10,2022-02-09,2,2,Leon\n"
        # N1 9 days after n's removal: counted (5)
        "N1,n,2022-09-29,,1,1,Leon\n"
        # N2 after the end of P: not in P
        "N2,n,2022-10-02,,1,1,Leon\n"
        # Q1 the day before q's 18th birthday: counted (6)
        "Q1,q,2022-03-14,,4,1,Leon\n"
        # Q2 on the 18th birthday: outside the episode
        "Q2,q,2022-03-15,,4,1,Leon\n"
    ),
    # 6 victimizations over 120 + 10 + 165 = 295 days
    expected={"maltreatment_in_care": (6, 295)},
)

RECURRENCE = Case(
    name="recurrence",
    period_start=FFY2022,
    children=(
        "r1,2015-01-01,1,1,0,2\n"
        "r2,2015-01-01,1,1,0,2\n"
        "r3,2015-01-01,1,1,0,2\n"
        "r4,2015-01-01,1,1,0,2\n"
        "r5,2015-01-01,1,1,0,2\n"
        "r6,2015-01-01,1,1,0,2\n"
        "r7,2022-02-01,1,1,0,2\n"
        "r8,2003-01-01,1,1,0,2\n"
        "r9,2015-01-01,1,1,0,2\n"
    ),
    reports=(
        # r1: initial 2021-10-05; 14 days later is too soon; 15 days later is the same incident
        "A1,r1,2021-10-05,2021-10-01,2,1,Leon\n"
        "A2,r1,2021-10-19,,2,1,Leon\n"
        "A3,r1,2021-10-20,2021-10-01,2,1,Leon\n"
        # r2: 15 days later, incident dates missing (they match nothing): recurrence
        "B1,r2,2022-01-10,,2,1,Leon\n"
        "B2,r2,2022-01-25,,2,2,Leon\n"
        # r3: initial on the last day of P, again exactly 365 days later: recurrence
        "C1,r3,2022-09-30,,2,1,Leon\n"
        "C2,r3,2023-09-30,,2,1,Leon\n"
        # r4: again 366 days later: not
        "D1,r4,2022-03-01,,2,1,Leon\n"
        "D2,r4,2023-03-02,,2,1,Leon\n"
        # r5: a victim report before P does not start the cohort; the one in P does, no recurrence
        "E1,r5,2021-09-30,,2,1,Leon\n"
        "E2,r5,2021-10-20,,2,1,Leon\n"
        # r6: a non-victim report first; initial is 2022-05-01; the later one is unsubstantiated
        "F1,r6,2021-11-01,,2,5,Leon\n"
        "F2,r6,2022-05-01,,2,1,Leon\n"
        "F3,r6,2022-05-20,,2,5,Leon\n"
        # r7: reported before birth (prenatal): dropped
        "G1,r7,2022-01-15,,2,1,Leon\n"
        "G2,r7,2022-03-15,,2,1,Leon\n"
        # r8: aged 18+ is kept; recurrence 31 days later
        "H1,r8,2021-12-01,,2,1,Wakulla\n"
        "H2,r8,2022-01-01,,2,1,Wakulla\n"
        # r9: first report after P: not in the cohort
        "I1,r9,2022-10-01,,2,1,Leon\n"
    ),
    # cohort r1 r2 r3 r4 r5 r6 r8 = 7; recurrences r2 r3 r8 = 3
    expected={"recurrence": (3, 7)},
    through=dt.date(2023, 9, 30),
)

PERMANENCY_ENTRIES = Case(
    name="permanency_entries",
    period_start=FFY2022,
    children=(
        "p1,2015-01-01,1,1,0,2\n"
        "p2,2015-01-01,1,1,0,2\n"
        "p3,2015-01-01,1,1,0,2\n"
        "p4,2015-01-01,1,1,0,2\n"
        "p5,2015-01-01,1,1,0,2\n"
        "p6,2015-01-01,1,1,0,2\n"
        "p7,2015-01-01,1,1,0,2\n"
        "p8,2015-01-01,1,1,0,2\n"
        "p9,2003-12-01,1,1,0,2\n"
        "p10,2004-01-15,1,1,0,2\n"
        "p11,2015-01-01,1,1,0,2\n"
        "p12,2015-01-01,1,1,0,2\n"
        "p13,2015-01-01,1,1,0,2\n"
        "p14,2015-01-01,1,1,0,2\n"
    ),
    episodes=(
        # p1: 364 days, reunified: permanency within 12 months
        "p1,2021-10-01,2022-09-30,1,Leon\n"
        # p2: 365 days: not within 12 months
        "p2,2021-10-01,2022-10-01,1,Leon\n"
        # p3: 7-day stay: short, dropped
        "p3,2022-01-01,2022-01-08,1,Leon\n"
        # p4: 8-day stay, adopted: in, permanency
        "p4,2022-01-01,2022-01-09,3,Leon\n"
        # p5: 393 days, but the trial home visit from 2022-06-01 lasted 273 days: discharge taken
        # as 2022-07-01, 150 days after removal: permanency
        "p5,2022-02-01,2023-03-01,1,Leon\n"
        # p6: 365 days; THV of exactly 30 days: no adjustment: not within 12 months
        "p6,2021-11-15,2022-11-15,1,Leon\n"
        # p7: 365 days; THV of 31 days: discharge taken as 2022-11-14, 364 days: permanency
        "p7,2021-11-15,2022-11-15,1,Wakulla\n"
        # p8: emancipation is not permanency
        "p8,2021-12-01,2022-02-01,4,Wakulla\n"
        # p9: enters on the 18th birthday: excluded
        "p9,2021-12-01,2022-01-01,1,Wakulla\n"
        # p10: enters at 17, reunified after turning 18 (2022-01-15): in, not permanency
        "p10,2021-12-01,2022-02-01,1,Wakulla\n"
        # p11: first entry in P is short: the child is dropped, the second entry is not used
        "p11,2021-10-10,2021-10-15,1,Wakulla\n"
        "p11,2022-01-01,2022-02-01,1,Wakulla\n"
        # p12: entered before P: not in the cohort
        "p12,2021-09-30,2021-12-01,1,Wakulla\n"
        # p13: still in care: in, not permanency
        "p13,2022-03-01,,,Wakulla\n"
        # p14: first entry ends in runaway; the later reunification does not count
        "p14,2021-10-10,2021-12-10,7,Wakulla\n"
        "p14,2022-01-01,2022-02-01,1,Wakulla\n"
    ),
    placements=(
        "p5,2022-02-01,2022-02-01,2022-05-31,3,0,H1\n"
        "p5,2022-02-01,2022-06-01,,8,0,\n"
        "p6,2021-11-15,2021-11-15,2022-10-15,3,0,H2\n"
        "p6,2021-11-15,2022-10-16,,8,0,\n"
        "p7,2021-11-15,2021-11-15,2022-10-14,3,0,H3\n"
        "p7,2021-11-15,2022-10-15,,8,0,\n"
    ),
    # cohort p1 p2 p4 p5 p6 p7 p8 p10 p13 p14 = 10; permanency p1 p4 p5 p7 = 4
    expected={"permanency_12_entries": (4, 10)},
)

PERMANENCY_IN_CARE = Case(
    name="permanency_in_care",
    period_start=FFY2022,
    children=(
        "q1,2015-01-01,1,1,0,2\n"
        "q2,2015-01-01,1,1,0,2\n"
        "q3,2015-01-01,1,1,0,2\n"
        "q4,2010-01-01,1,1,0,2\n"
        "q5,2010-01-01,1,1,0,2\n"
        "q6,2003-10-01,1,1,0,2\n"
        "q7,2003-10-02,1,1,0,2\n"
        "q8,2015-01-01,1,1,0,2\n"
        "q9,2015-01-01,1,1,0,2\n"
    ),
    episodes=(
        # q1: 12 calendar months on 2021-10-01: 12-23 cohort; to a relative in P: permanency
        "q1,2020-10-01,2022-09-30,2,Leon\n"
        # q2: 11 months (2020-10-02 to 2021-10-01 is one day short of 12): in neither cohort
        "q2,2020-10-02,,,Leon\n"
        # q3: 23 months: 12-23 cohort; reunified the day after P ends: not permanency in P
        "q3,2019-10-02,2022-10-01,1,Leon\n"
        # q4: 24 months: 24+ cohort; adopted on the first day of P: permanency
        "q4,2019-10-01,2021-10-01,3,Leon\n"
        # q5: 80 months: 24+; still in care
        "q5,2015-01-31,,,Leon\n"
        # q6: 18 on the first day of P: excluded
        "q6,2019-01-31,,,Leon\n"
        # q7: 17 on the first day of P (18 the next day): 24+ cohort; reunified after 18: not
        "q7,2019-01-31,2021-11-01,1,Leon\n"
        # q8: discharged the day before P: not in care on the first day
        "q8,2020-01-31,2021-09-30,1,Leon\n"
        # q9: 15 months: 12-23; guardianship in P: permanency
        "q9,2020-06-15,2022-03-01,5,Leon\n"
    ),
    # 12-23: q1 q3 q9 -> 2 of 3; 24+: q4 q5 q7 -> 1 of 3
    expected={"permanency_12_23": (2, 3), "permanency_24_plus": (1, 3)},
)

REENTRY = Case(
    name="reentry",
    period_start=FFY2022,
    # An exit cohort: children discharged in P to reunification (1), a relative (2) or
    # guardianship (5) before their 18th birthday, whenever they entered; the child's first such
    # exit in P; re-entry is a removal on or after that discharge and at most 365 days after it.
    children=(
        "x1,2015-01-01,1,1,0,2\n"
        "x2,2015-01-01,2,1,0,2\n"
        "x3,2015-01-01,1,1,0,2\n"
        "x4,2015-01-01,2,1,0,2\n"
        "x5,2005-01-01,1,1,0,2\n"
        "x6,2015-01-01,2,1,0,2\n"
        "x7,2004-06-01,1,1,0,2\n"
        "x8,2004-07-01,2,1,0,2\n"
        "x9,2015-01-01,1,1,0,2\n"
        "x10,2015-01-01,2,1,0,2\n"
        "x11,2015-01-01,1,1,0,2\n"
        "x12,2015-01-01,2,1,0,2\n"
        "x13,2015-01-01,1,1,0,2\n"
        "x14,2015-01-01,2,1,0,2\n"
    ),
    episodes=(
        # x1: entered before P (not in an entry cohort), reunified on the first day of P: in; it
        # re-enters 2022-10-01, exactly 365 days later (no 29 February between): re-entry
        "x1,2021-03-01,2021-10-01,1,Leon\n"
        "x1,2022-10-01,,,Leon\n"
        # x2: to a relative on the last day of P: in; re-enters 2023-10-01, 366 days later: not
        "x2,2022-01-01,2022-09-30,2,Leon\n"
        "x2,2023-10-01,,,Leon\n"
        # x3: reunified the day before P: not in the cohort (nor is its re-entry in P)
        "x3,2021-01-01,2021-09-30,1,Leon\n"
        "x3,2021-11-01,,,Leon\n"
        # x4: reunified the day after P: not in the cohort
        "x4,2022-01-01,2022-10-01,1,Leon\n"
        # x5: emancipation (4) is not an exit to permanency here: not in the cohort
        "x5,2021-06-01,2022-03-01,4,Leon\n"
        "x5,2022-04-01,,,Leon\n"
        # x6: adoption (3) is permanency but not in the re-entry exit cohort
        "x6,2021-06-01,2022-02-01,3,Leon\n"
        "x6,2022-06-01,,,Leon\n"
        # x7: reunified on the 18th birthday (2022-06-01), which is itself the discharge: not in
        "x7,2021-01-01,2022-06-01,1,Leon\n"
        "x7,2022-07-01,,,Leon\n"
        # x8: guardianship the day before the 18th birthday (2022-07-01): in; re-enters 32 days
        # later: re-entry (age at exit 17)
        "x8,2021-01-01,2022-06-30,5,Wakulla\n"
        "x8,2022-08-01,,,Wakulla\n"
        # x9: two exits in P; the first (2021-11-05) counts, and the child re-entered 66 days
        # later: re-entry. (Its second exit, 2022-03-01, has no re-entry: were it used, 0; were
        # both episodes counted, 1 of 2.)
        "x9,2021-10-05,2021-11-05,1,Wakulla\n"
        "x9,2022-01-10,2022-03-01,1,Wakulla\n"
        # x10: the first discharge in P is a transfer (6), not qualifying; the second, a
        # reunification on 2022-01-01, is the first qualifying exit; re-entry 151 days later
        "x10,2021-10-05,2021-11-05,6,Wakulla\n"
        "x10,2021-12-01,2022-01-01,1,Wakulla\n"
        "x10,2022-06-01,,,Wakulla\n"
        # x11: a 2-day stay (no 8-day rule here); re-enters on the discharge day: re-entry
        "x11,2022-01-01,2022-01-03,1,Wakulla\n"
        "x11,2022-01-03,,,Wakulla\n"
        # x12: an earlier discharge in P has no reason, so it is not known whether the later
        # reunification is the first exit to permanency: excluded
        "x12,2021-10-10,2021-11-10,,Wakulla\n"
        "x12,2022-01-01,2022-02-01,1,Wakulla\n"
        # x13: reunified in P, never re-enters: in, no re-entry
        "x13,2022-02-01,2022-05-01,1,Wakulla\n"
        # x14: reunified 2021-12-01; re-enters twice within 12 months (a runaway discharge in
        # between does not qualify as an exit): one re-entry
        "x14,2021-11-01,2021-12-01,1,Wakulla\n"
        "x14,2022-01-01,2022-01-20,7,Wakulla\n"
        "x14,2022-03-01,,,Wakulla\n"
    ),
    # cohort x1 x2 x8 x9 x10 x11 x13 x14 = 8; re-entries x1 x8 x9 x10 x11 x14 = 6
    expected={"reentry_12": (6, 8)},
)

PERMANENCY_WITHOUT_REASON = Case(
    name="permanency_without_reason",
    period_start=FFY2022,
    # The dictionary excludes "children without a discharge reason" from all three permanency
    # indicators: a discharge date with no reason, where the reason would decide the numerator
    # (inside the indicator's window, before the 18th birthday).
    children=(
        "n1,2015-01-01,1,1,0,2\n"
        "n2,2015-01-01,1,1,0,2\n"
        "n3,2015-01-01,1,1,0,2\n"
        "n4,2004-01-15,1,1,0,2\n"
        "n5,2015-01-01,1,1,0,2\n"
        "n6,2015-01-01,1,1,0,2\n"
        "n7,2015-01-01,1,1,0,2\n"
        "n8,2015-01-01,1,1,0,2\n"
        "n9,2015-01-01,1,1,0,2\n"
    ),
    episodes=(
        # Entries in P.
        # n1: discharged after 120 days with no reason: excluded
        "n1,2021-11-01,2022-03-01,,Leon\n"
        # n2: discharged with no reason 365 days after entry, outside the 12 months: in, not
        # permanency (its reason could not have counted)
        "n2,2021-11-01,2022-11-01,,Leon\n"
        # n3: reunified after 62 days: in, permanency
        "n3,2021-12-01,2022-02-01,1,Leon\n"
        # n4: 18 on 2022-01-15, which is its discharge; the later reasonless discharge does not
        # matter: in, not permanency
        "n4,2021-12-01,2022-03-01,,Leon\n"
        # In care on 2021-10-01 for 16 months (12-23).
        # n5: discharged in P with no reason: excluded
        "n5,2020-06-01,2022-05-01,,Leon\n"
        # n6: discharged with no reason after P: in, not permanency
        "n6,2020-06-01,2022-12-01,,Leon\n"
        # n7: to a relative in P: in, permanency
        "n7,2020-06-01,2022-05-01,2,Leon\n"
        # In care on 2021-10-01 for 45 months (24+).
        # n8: discharged on the first day of P with no reason: excluded
        "n8,2018-01-01,2021-10-01,,Leon\n"
        # n9: still in care: in, not permanency
        "n9,2018-01-01,,,Leon\n"
    ),
    # entries n2 n3 n4 -> 1 of 3; 12-23 n6 n7 -> 1 of 2; 24+ n9 -> 0 of 1
    expected={
        "permanency_12_entries": (1, 3),
        "permanency_12_23": (1, 2),
        "permanency_24_plus": (0, 1),
    },
)

PLACEMENT_STABILITY = Case(
    name="placement_stability",
    period_start=FFY2022,
    children=(
        "s1,2015-01-01,1,1,0,2\n"
        "s2,2015-01-01,1,1,0,2\n"
        "s3,2015-01-01,1,1,0,2\n"
        "s4,2015-01-01,1,1,0,2\n"
        "s5,2004-06-01,1,1,0,2\n"
        "s6,2015-01-01,1,1,0,2\n"
        "s7,2003-12-01,1,1,0,2\n"
    ),
    episodes=(
        # s1: 2022-01-01, still in care: 272 days
        "s1,2022-01-01,,,Leon\n"
        # s2: entered before P: excluded
        "s2,2021-09-01,,,Leon\n"
        # s3: 2022-09-01, still in care: 29 days
        "s3,2022-09-01,,,Leon\n"
        # s4: 7-day stay: excluded with its move
        "s4,2022-03-01,2022-03-08,1,Leon\n"
        # s5: 18 on 2022-06-01: days 2022-01-01 to 2022-06-01 = 151
        "s5,2022-01-01,,,Leon\n"
        # s6: 2022-02-01 to 2022-04-01: 59 days
        "s6,2022-02-01,2022-04-01,1,Leon\n"
        # s7: entered at 18: excluded
        "s7,2022-01-01,,,Leon\n"
    ),
    placements=(
        # s1: A; runaway; back to A (no move); B (move 1); respite in B's licence (temporary, no
        # move); B again (no move); trial home visit; group home, no provider (move 2);
        # institution, no provider (move 3)
        "s1,2022-01-01,2022-01-01,2022-01-31,3,0,A\n"
        "s1,2022-01-01,2022-02-01,2022-02-09,7,0,\n"
        "s1,2022-01-01,2022-02-10,2022-02-28,3,0,A\n"
        "s1,2022-01-01,2022-03-01,2022-03-31,2,0,B\n"
        "s1,2022-01-01,2022-04-01,2022-04-04,3,1,R\n"
        "s1,2022-01-01,2022-04-05,2022-04-30,2,0,B\n"
        "s1,2022-01-01,2022-05-01,2022-05-31,8,0,\n"
        "s1,2022-01-01,2022-06-01,2022-06-30,4,0,\n"
        "s1,2022-01-01,2022-07-01,,5,0,\n"
        "s2,2021-09-01,2021-09-01,2021-12-31,3,0,A\n"
        "s2,2021-09-01,2022-01-01,,3,0,B\n"
        # s3: the move happens after P
        "s3,2022-09-01,2022-09-01,2022-10-04,3,0,A\n"
        "s3,2022-09-01,2022-10-05,,3,0,B\n"
        "s4,2022-03-01,2022-03-01,2022-03-03,3,0,A\n"
        "s4,2022-03-01,2022-03-04,2022-03-08,3,0,B\n"
        # s5: a move the day before 18 counts (move 4); one on the birthday does not
        "s5,2022-01-01,2022-01-01,2022-05-30,3,0,A\n"
        "s5,2022-01-01,2022-05-31,2022-05-31,3,0,B\n"
        "s5,2022-01-01,2022-06-01,,3,0,C\n"
        # s6: the same home becomes pre-adoptive: not a move
        "s6,2022-02-01,2022-02-01,2022-02-28,3,0,H\n"
        "s6,2022-02-01,2022-03-01,2022-04-01,1,0,H\n"
        "s7,2022-01-01,2022-01-01,2022-01-31,3,0,A\n"
        "s7,2022-01-01,2022-02-01,,3,0,B\n"
    ),
    # moves 3 + 0 + 1 + 0 = 4 over 272 + 29 + 151 + 59 = 511 days
    expected={"placement_stability": (4, 511)},
)

LEAP_YEAR = Case(
    name="leap_year",
    period_start=dt.date(2023, 10, 1),
    children="l1,2015-01-01,1,1,0,2\nl2,2015-01-01,2,1,0,2\n",
    episodes=(
        # l1: in care all of P, which holds 29 February 2024: 366 days
        "l1,2022-01-01,,,Leon\n"
        # l2: 2024-02-20 to 2024-03-01 crosses the leap day: 10 days
        "l2,2024-02-20,2024-03-01,1,Leon\n"
    ),
    placements="l2,2024-02-20,2024-02-20,2024-03-01,3,0,A\n",
    expected={"maltreatment_in_care": (0, 376), "placement_stability": (0, 10)},
)

TRIAL_HOME_VISIT_EDGES = Case(
    name="trial_home_visit_edges",
    period_start=FFY2022,
    children="t1,2015-01-01,1,1,0,2\nt2,2015-01-01,1,1,0,2\nt3,2015-01-01,1,1,0,2\n",
    episodes=(
        # t1: 365 days, last placement a 40-day THV, but discharged to a relative (reason 2):
        # the adjustment is for reunification only: not within 12 months
        "t1,2021-11-15,2022-11-15,2,Leon\n"
        # t2: 365 days, reunified, but the THV is not the last placement: no adjustment: not
        "t2,2021-11-15,2022-11-15,1,Leon\n"
        # t3: 589 days, reunified after a THV from 2022-09-01: discharge taken as 2022-10-01,
        # 346 days after removal: permanency
        "t3,2021-10-20,2023-06-01,1,Leon\n"
    ),
    placements=(
        "t1,2021-11-15,2021-11-15,2022-10-05,2,0,K1\n"
        "t1,2021-11-15,2022-10-06,,8,0,\n"
        "t2,2021-11-15,2021-11-15,2022-05-31,3,0,K2\n"
        "t2,2021-11-15,2022-06-01,2022-07-31,8,0,\n"
        "t2,2021-11-15,2022-08-01,,3,0,K3\n"
        "t3,2021-10-20,2021-10-20,2022-08-31,3,0,K4\n"
        "t3,2021-10-20,2022-09-01,,8,0,\n"
    ),
    # cohort t1 t2 t3 = 3; permanency t3 = 1.
    # Placement stability: t2's THV is not a setting, so K2 -> K3 is one move (2022-08-01);
    # t1, t3: no moves. Days: t1 2022-09-30 - 2021-11-15 = 319, t2 319, t3 345 -> 983.
    expected={"permanency_12_entries": (1, 3), "placement_stability": (1, 983)},
)

SAME_VICTIMIZATION_RUNS = Case(
    name="same_victimization_runs",
    period_start=FFY2022,
    children="u,2015-01-01,2,1,0,2\n",
    # removed at mid-day on the first day of P, still in care: 364 whole days
    episodes="u,2021-10-01,,,Leon\n",
    reports=(
        # consecutive days 11-01..11-04: 11-01 counts, 11-02 is one day after it, 11-03 counts
        # (two days after the counted 11-01), 11-04 is one day after 11-03; 11-06 counts;
        # two reports on 12-01 are one victimization: 4 in all
        "U1,u,2021-11-01,,2,1,Leon\n"
        "U2,u,2021-11-02,,2,1,Leon\n"
        "U3,u,2021-11-03,,2,1,Leon\n"
        "U4,u,2021-11-04,,2,1,Leon\n"
        "U5,u,2021-11-06,,2,1,Leon\n"
        "U6,u,2021-12-01,,2,1,Leon\n"
        "U7,u,2021-12-01,,1,2,Leon\n"
    ),
    # Recurrence: initial U1 (2021-11-01); U6/U7 are 30 days later: recurrence, 1 of 1.
    expected={"maltreatment_in_care": (4, 364), "recurrence": (1, 1)},
)

PERIOD_FROM_LEAP_DAY = Case(
    name="period_from_leap_day",
    # P starting on 29 February 2024 ends on 28 February 2025: 366 days
    period_start=dt.date(2024, 2, 29),
    children="v,2015-01-01,1,1,0,2\n",
    episodes="v,2023-01-01,,,Leon\n",
    expected={"maltreatment_in_care": (0, 366)},
)

PLACEMENT_UNKNOWN = Case(
    name="placement_unknown",
    period_start=FFY2022,
    children="w1,2015-01-01,1,1,0,2\nw2,2015-01-01,2,1,0,2\nw3,2015-01-01,1,1,0,2\n",
    episodes=(
        # w1: 2022-01-01, still in care: 272 days, with a move on 2022-03-01
        "w1,2022-01-01,,,Leon\n"
        # w2: 2022-02-01 to 2022-04-01 (59 days) with no placement row: placement information
        # cannot be determined, so placement stability counts neither its days nor any move
        "w2,2022-02-01,2022-04-01,1,Leon\n"
        # w3: 2022-05-01, still in care: 152 days; its only row is a runaway (not a setting,
        # but placement information): its days count, with no move
        "w3,2022-05-01,,,Leon\n"
    ),
    placements=(
        "w1,2022-01-01,2022-01-01,2022-02-28,3,0,A\n"
        "w1,2022-01-01,2022-03-01,,3,0,B\n"
        "w3,2022-05-01,2022-05-01,,7,0,\n"
    ),
    # Placement stability: 1 move over 272 + 152 = 424 days. Maltreatment in care is not
    # affected: 272 + 59 + 152 = 483 days.
    expected={"placement_stability": (1, 424), "maltreatment_in_care": (0, 483)},
)

RECURRENCE_SAME_DAY = Case(
    name="recurrence_same_day",
    period_start=FFY2022,
    children="x,2015-01-01,1,1,0,2\ny,2015-01-01,2,1,0,2\nz,2015-01-01,1,1,0,2\n",
    reports=(
        # x: two victim reports on 2022-01-10, of incidents on 01-05 and 01-01 (report ids
        # decide nothing: "A10" sorts before "A9"). The report on 2022-02-01 (22 days later) is
        # of the 01-05 incident, reported on the initial day: the same incident, no recurrence.
        "A9,x,2022-01-10,2022-01-05,2,1,Leon\n"
        "A10,x,2022-01-10,2022-01-01,2,1,Leon\n"
        "A11,x,2022-02-01,2022-01-05,2,1,Leon\n"
        # y: initial day 2022-03-01 (incidents 02-27 and unknown); 2022-04-01 is a new incident
        # (03-30), 31 days later: a recurrence
        "B1,y,2022-03-01,2022-02-27,2,1,Leon\n"
        "B2,y,2022-03-01,,2,2,Leon\n"
        "B3,y,2022-04-01,2022-03-30,2,1,Leon\n"
        # z: initial 2022-05-01 with no incident date, later 2022-05-20 with none either: a
        # missing incident date matches nothing, 19 days > 14: a recurrence
        "C1,z,2022-05-01,,2,1,Leon\n"
        "C2,z,2022-05-20,,2,1,Leon\n"
    ),
    # denominator x, y, z = 3; numerator y, z = 2
    expected={"recurrence": (2, 3)},
)

ALL_CASES = (
    DAYS_IN_CARE,
    MALTREATMENT_IN_CARE,
    RECURRENCE,
    PERMANENCY_ENTRIES,
    PERMANENCY_IN_CARE,
    PERMANENCY_WITHOUT_REASON,
    REENTRY,
    PLACEMENT_STABILITY,
    LEAP_YEAR,
    TRIAL_HOME_VISIT_EDGES,
    SAME_VICTIMIZATION_RUNS,
    PERIOD_FROM_LEAP_DAY,
    PLACEMENT_UNKNOWN,
    RECURRENCE_SAME_DAY,
)
