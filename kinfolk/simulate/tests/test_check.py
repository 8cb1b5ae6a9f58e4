"""`kinfolk simulate check`'s re-entry is the outcomes engine's CFSR Round 4 re-entry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from kinfolk.federal.tables import read_tables
from kinfolk.outcomes.compute import compute
from kinfolk.outcomes.engine import Period, day_number
from kinfolk.outcomes.tests.cases import FFY2022, REENTRY, Case
from kinfolk.simulate.check import headline_rates, reentry_12
from kinfolk.simulate.tests.conftest import simulate

P = Period.starting(FFY2022)

# Two children born on 29 February 2004, whose 18th birthday is 28 February 2022 (P is FFY 2022):
# l1 is reunified the day before it (in the cohort) and re-enters 30 days later; l2 is reunified
# on the birthday itself, which is a discharge with no such reason (not in the cohort). l3 was
# discharged with no reason on the same day as its reunification: excluded, it is not known
# which came first. l4 re-enters 366 days after its exit (2022-01-01 + 365 = 2023-01-01, the
# last day that counts), so it is in the cohort without a re-entry.
LEAP_BIRTHDAY = Case(
    name="reentry_leap_birthday",
    period_start=FFY2022,
    children=(
        "l1,2004-02-29,1,1,0,2\nl2,2004-02-29,2,1,0,2\nl3,2015-01-01,1,1,0,2\nl4,2015-01-01,2,1,0,2\n"
    ),
    episodes=(
        "l1,2021-06-01,2022-02-27,1,Leon\n"
        "l1,2022-03-29,,,Leon\n"
        "l2,2021-06-01,2022-02-28,1,Leon\n"
        "l2,2022-03-01,,,Leon\n"
        "l3,2021-06-01,2021-12-01,,Leon\n"
        "l3,2021-12-01,2021-12-01,1,Leon\n"
        "l4,2021-06-01,2022-01-01,1,Leon\n"
        "l4,2023-01-02,,,Leon\n"
    ),
    # cohort l1 l4 = 2; re-entries l1 = 1
    expected={"reentry_12": (1, 2)},
)


def _engine_reentry(directory: Path, start: dt.date, through: dt.date) -> tuple[int, int]:
    result = compute(read_tables(directory), start, through=through)["indicators"]["reentry_12"]
    return result["numerator"], result["denominator"]


def test_reentry_counts_the_hand_worked_round4_case(tmp_path: Path) -> None:
    tables = read_tables(REENTRY.write(tmp_path / "reentry"))
    assert (
        reentry_12(tables, day_number(P.start), day_number(P.end)) == REENTRY.expected["reentry_12"]
    )


def test_reentry_applies_the_18th_birthday_and_reasonless_discharges(tmp_path: Path) -> None:
    directory = LEAP_BIRTHDAY.write(tmp_path / "leap")
    counts = reentry_12(read_tables(directory), day_number(P.start), day_number(P.end))
    assert counts == LEAP_BIRTHDAY.expected["reentry_12"]
    assert _engine_reentry(directory, FFY2022, LEAP_BIRTHDAY.through) == counts


def test_check_prints_the_engines_reentry_for_its_period(tmp_path: Path) -> None:
    # Large enough for re-entries to happen (the session's small run has none), small enough
    # to simulate in a few seconds. The definition check used before (entries in P exiting
    # within 12 months) gave 7.52 here; the Round 4 exit cohort gives 14 of 242.
    run = simulate(tmp_path / "run", seed=5, children=200_000)
    rates = {rate.name: rate for rate in headline_rates(run)}
    manifest = json.loads((run / "simulation.json").read_text(encoding="utf-8"))
    # The period check labels its CFSR-like readings with.
    unit = rates["reentry_12"].unit
    start = dt.date.fromisoformat(unit.split("FFY starting ")[1][:10])
    numerator, denominator = _engine_reentry(
        run, start, dt.date.fromisoformat(manifest["end_date"])
    )
    assert numerator > 0 and denominator > 0
    assert rates["reentry_12"].value == 100 * numerator / denominator
    assert "Round 4" in unit
