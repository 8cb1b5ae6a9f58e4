"""Fill cases, episodes, placements and resource homes from a simulator run (bulk path).

Runs after ``kinfolk.intake.load`` has loaded the run's people and reports, in the same
transaction (the ``load_simulation`` command holds both), and takes those by their simulator ids.
Like that loader it keeps what the services keep: versions, a history row per record, an event
per episode and case, audit rows marked as a system load, and every invariant of ``rules``,
checked over the whole file before a row is written; a file that breaks one is refused with its
table, row and column, and nothing is loaded.

* Resource homes from the ``provider_id`` values of ``placements`` (the prefix is the kind of
  home: A pre-adoptive, K kin, F foster family, G group home, I institution, S supervised
  independent living), managed by the office of the first episode that used them; a kin home's
  caregivers are the relative caregivers ``persons_links.csv`` names for it. "H" ids are the
  family's own home during a trial home visit, not a resource home: such rows have no home.
* One foster-care case per episode (opened at the removal, closed at the discharge), its members
  the child and the caregivers of the child's household; its source report the child's latest
  report on or before the removal, whose maltreatment types give the removal reasons.
* Episodes and their placements from ``episodes`` and ``placements``.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from kinfolk.cases.models import Case, CaseEvent, CaseMember
from kinfolk.core import audit
from kinfolk.core.models import OrgUnit
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Report
from kinfolk.people.models import Person
from kinfolk.placements import rules
from kinfolk.placements.models import (
    HOME_SETTINGS,
    NO_HOME_SETTINGS,
    Episode,
    EpisodeEvent,
    HomeType,
    Placement,
    PlacementEndReason,
    ResourceHome,
    ResourceHomeCaregiver,
)
from kinfolk.placements.policy import placement_policy

BATCH = 2000
HOME_TYPES = {
    "A": HomeType.PRE_ADOPTIVE,
    "K": HomeType.KINSHIP,
    "F": HomeType.FOSTER_FAMILY,
    "G": HomeType.GROUP,
    "I": HomeType.INSTITUTION,
    "S": HomeType.INDEPENDENT_LIVING,
}
FAMILY_HOME = "H"  # a trial home visit: the family's own home
CAPACITY = {"A": 4, "K": 4, "F": 4, "G": 12, "I": 40, "S": 1}
# The case's closing reason for each AFCARS discharge reason.
CLOSE_REASONS = {
    "1": "reunified",
    "2": "living_with_relative",
    "3": "adopted",
    "4": "emancipated",
    "5": "guardianship",
    "6": "transferred",
    "7": "runaway",
    "8": "death",
}


class LoadError(ValueError):
    """The run breaks an invariant; says where (table, row counted from 1, column)."""


@dataclass
class PlacementsLoadResult:
    resource_homes: int
    cases: int
    case_members: int
    episodes: int
    placements: int
    seconds: float


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _where(table: str, row: int, column: str, message: str) -> LoadError:
    return LoadError(f"{table} row {row}, column {column}: {message}")


def _check(
    episodes: list[dict[str, Any]],
    placements: list[dict[str, Any]],
    people: dict[str, Person],
    units: dict[str, OrgUnit],
) -> dict[tuple[str, date], list[int]]:
    """Every invariant over the whole run; returns each episode's placement rows in order."""
    keys: dict[tuple[str, date], int] = {}
    by_child: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for i, row in enumerate(episodes, 1):
        if row["child_id"] not in people:
            raise _where("episodes", i, "child_id", f"{row['child_id']!r} is not a loaded child")
        if row["office"] not in units:
            raise _where("episodes", i, "office", f"unknown office {row['office']!r}")
        if (row["discharge_date"] is None) != (row["discharge_reason"] is None):
            raise _where(
                "episodes", i, "discharge_reason", "a discharge has a reason, and only a discharge"
            )
        keys[(row["child_id"], row["removal_date"])] = i
        by_child[row["child_id"]].append((row["removal_date"], row["discharge_date"]))
    for child_id, spans in by_child.items():
        for column, message in rules.episode_problems(spans):
            raise LoadError(f"episodes of child {child_id!r}, column {column}: {message}")
    rows_of: dict[tuple[str, date], list[int]] = defaultdict(list)
    for i, row in enumerate(placements, 1):
        key = (row["child_id"], row["removal_date"])
        rows_of[key].append(i - 1)
        code = row["provider_id"] or ""
        setting = str(row["setting"])
        if code and code[0] not in HOME_TYPES and code[0] != FAMILY_HOME:
            raise _where("placements", i, "provider_id", f"unknown kind of home {code!r}")
        home_type = HOME_TYPES.get(code[:1])
        if setting in NO_HOME_SETTINGS and home_type is not None:
            raise _where(
                "placements", i, "provider_id", "a runaway or trial home visit has no home"
            )
        if home_type and not row["temporary"] and setting not in HOME_SETTINGS[home_type]:
            raise _where("placements", i, "setting", f"setting {setting} in a {home_type} home")
    for key, index in keys.items():
        row = episodes[index - 1]
        spans = [(placements[j]["start_date"], placements[j]["end_date"]) for j in rows_of[key]]
        for column, message in rules.placement_problems(
            row["removal_date"], row["discharge_date"], spans
        ):
            raise LoadError(
                f"placements of episode (child_id={key[0]}, removal_date={key[1]}), "
                f"column {column}: {message}"
            )
        rows_of[key].sort(key=lambda j: placements[j]["start_date"])
    return rows_of


def _homes(
    episodes: list[dict[str, Any]],
    placements: list[dict[str, Any]],
    units: dict[str, OrgUnit],
    directory: Path,
    people: dict[str, Person],
) -> tuple[dict[str, ResourceHome], list[ResourceHomeCaregiver]]:
    office_of = {(e["child_id"], e["removal_date"]): e["office"] for e in episodes}
    homes: dict[str, ResourceHome] = {}
    for row in sorted(placements, key=lambda r: r["start_date"]):
        code = row["provider_id"] or ""
        if not code or code[0] == FAMILY_HOME or code in homes:
            continue
        home_type = HOME_TYPES[code[0]]
        homes[code] = ResourceHome(
            org_unit=units[office_of[(row["child_id"], row["removal_date"])]],
            code=code,
            name=f"Simulated {HomeType(home_type).label.lower()} {code}",
            home_type=home_type,
            capacity=CAPACITY[code[0]],
            licensed_from=row["start_date"],
        )
    truth = {r["record_id"]: r["person_id"] for r in _csv(directory / "persons_truth.csv")}
    seen: set[tuple[str, str]] = set()
    caregivers: list[ResourceHomeCaregiver] = []
    for link in _csv(directory / "persons_links.csv"):
        code, person_id = link["provider_id"], truth.get(link["record_id"], "")
        if link["role"] != "kin_caregiver" or code not in homes or person_id not in people:
            continue
        if (code, person_id) not in seen:
            seen.add((code, person_id))
            caregivers.append(ResourceHomeCaregiver(home=homes[code], person=people[person_id]))
    return homes, caregivers


def _families(directory: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each child's household, and each household's caregivers (simulator person ids)."""
    truth = {r["record_id"]: r["person_id"] for r in _csv(directory / "persons_truth.csv")}
    household_of: dict[str, str] = {}
    caregivers: dict[str, dict[str, None]] = defaultdict(dict)
    for link in _csv(directory / "persons_links.csv"):
        person_id = truth.get(link["record_id"], "")
        if link["role"] == "child":
            household_of.setdefault(person_id, link["household_id"])
        elif link["role"] == "caregiver":
            caregivers[link["household_id"]][person_id] = None
    return household_of, {h: list(c) for h, c in caregivers.items()}


@transaction.atomic
def load_placements(
    directory: str | Path,
    *,
    people: dict[str, Person],
    reports: dict[str, Report],
) -> PlacementsLoadResult:
    started = time.monotonic()
    directory = Path(directory)
    tables = read_tables(directory)
    episode_rows = tables["episodes"].to_pylist()
    placement_rows = tables["placements"].to_pylist()
    units = {u.code: u for u in OrgUnit.objects.all()}
    rows_of = _check(episode_rows, placement_rows, people, units)
    homes, home_caregivers = _homes(episode_rows, placement_rows, units, directory, people)

    # The child's reports by date, for each removal's source report and reasons.
    reported: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    for r in tables["reports"].to_pylist():
        reported[r["child_id"]].append(
            (r["report_date"], r["report_id"][:20], str(r["maltreatment_type"]))
        )
    reason_of = placement_policy().reasons_by_maltreatment
    household_of, family_caregivers = _families(directory)

    cases: list[Case] = []
    members: list[CaseMember] = []
    episodes: list[Episode] = []
    placements: list[Placement] = []
    case_events: list[CaseEvent] = []
    episode_events: list[EpisodeEvent] = []
    number_of: dict[str, int] = defaultdict(int)
    for row in sorted(episode_rows, key=lambda e: (e["child_id"], e["removal_date"])):
        child_id, removal, discharge = row["child_id"], row["removal_date"], row["discharge_date"]
        child, unit = people[child_id], units[row["office"]]
        before = [r for r in reported[child_id] if r[0] <= removal]
        latest = max(before)[:2] if before else None
        types = sorted({t for day, number, t in before if latest and number == latest[1]})
        number_of[child_id] += 1
        reason = str(row["discharge_reason"]) if discharge is not None else ""
        case = Case(
            org_unit=unit,
            restricted=child.restricted,
            number=f"FC-{child_id}-{number_of[child_id]}"[:32],
            kind="foster_care",
            status="closed" if discharge is not None else "open",
            opened_on=removal,
            closed_on=discharge,
            close_reason=CLOSE_REASONS.get(reason, ""),
            source_report=reports.get(latest[1]) if latest else None,
        )
        cases.append(case)
        case_events.append(
            CaseEvent(case=case, move="load", to_status=case.status, note="system load")
        )
        members.append(
            CaseMember(
                case=case, person=child, role="child", start_date=removal, end_date=discharge
            )
        )
        for person_id in family_caregivers.get(household_of.get(child_id, ""), []):
            if person_id in people:
                members.append(
                    CaseMember(
                        case=case,
                        person=people[person_id],
                        role="caregiver",
                        start_date=removal,
                        end_date=discharge,
                    )
                )
        episode = Episode(
            org_unit=unit,
            restricted=child.restricted,
            child=child,
            case=case,
            removal_date=removal,
            removal_reasons=list(dict.fromkeys(reason_of[t] for t in types if t in reason_of)),
            discharge_date=discharge,
            discharge_reason=reason,
        )
        episodes.append(episode)
        episode_events.append(
            EpisodeEvent(episode=episode, move=EpisodeEvent.Move.LOAD, on=removal, note="load")
        )
        ordered = rows_of[(child_id, removal)]
        for n, j in enumerate(ordered):
            p = placement_rows[j]
            code = p["provider_id"] or ""
            ended = p["end_date"] is not None
            last = n == len(ordered) - 1
            placements.append(
                Placement(
                    episode=episode,
                    setting=str(p["setting"]),
                    temporary=bool(p["temporary"]),
                    resource_home=homes.get(code),
                    start_date=p["start_date"],
                    end_date=p["end_date"],
                    end_reason=(
                        ""
                        if not ended
                        else PlacementEndReason.DISCHARGED
                        if last and discharge is not None
                        else PlacementEndReason.MOVED
                    ),
                )
            )
    for rows, model in (
        (list(homes.values()), ResourceHome),
        (home_caregivers, ResourceHomeCaregiver),
        (cases, Case),
        (members, CaseMember),
        (episodes, Episode),
        (placements, Placement),
    ):
        bulk_create_with_history(rows, model, batch_size=BATCH, default_change_reason="system load")
    CaseEvent.objects.bulk_create(case_events, batch_size=BATCH)
    EpisodeEvent.objects.bulk_create(episode_events, batch_size=BATCH)
    for record_type, fields, count in (
        (ResourceHome.RECORD_TYPE, ["caregivers"], len(homes)),
        (Case.RECORD_TYPE, ["members"], len(cases)),
        (Episode.RECORD_TYPE, [], len(episodes)),
        ("placement", [], len(placements)),
    ):
        audit.record(
            user=None,
            action="create",
            record_type=record_type,
            fields=fields,
            detail={"system_load": True, "count": count, "source": directory.name},
        )
    return PlacementsLoadResult(
        resource_homes=len(homes),
        cases=len(cases),
        case_members=len(members),
        episodes=len(episodes),
        placements=len(placements),
        seconds=round(time.monotonic() - started, 1),
    )
