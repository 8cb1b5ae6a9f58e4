"""All four federal-shaped tables from Kinfolk's database (see FEDERAL_TABLES.md).

``kinfolk.intake.extract`` gives the reports and their children; this adds every episode and
placement, and the children in care who were never on a screened-in report, so the outcomes
engine and the federal files read Kinfolk as they read a state's files or the simulator's.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from kinfolk.federal.tables import ARROW_SCHEMAS, conform_tables
from kinfolk.intake import extract as intake_extract
from kinfolk.placements.models import Episode, Placement


def _columns(table: str) -> dict[str, list[Any]]:
    return {name: [] for name in ARROW_SCHEMAS[table].names}


def _append(columns: dict[str, list[Any]], row: dict[str, Any]) -> None:
    for name, values in columns.items():
        values.append(row.get(name))


def federal_tables() -> dict[str, pa.Table]:
    """Reports, children, episodes and placements as Arrow tables, validated."""
    tables = intake_extract.federal_tables()
    geo = intake_extract.geography()
    episodes = _columns("episodes")
    listed = set(tables["children"].column("child_id").to_pylist())
    extra_children = _columns("children")
    for e in (
        Episode.objects.select_related("child")
        .order_by("child_id", "removal_date")
        .iterator(chunk_size=2000)
    ):
        where = geo[e.org_unit_id]
        _append(
            episodes,
            {
                "child_id": str(e.child_id),
                "removal_date": e.removal_date,
                "discharge_date": e.discharge_date,
                "discharge_reason": int(e.discharge_reason) if e.discharge_reason else None,
                **where,
            },
        )
        if str(e.child_id) not in listed:
            listed.add(str(e.child_id))
            _append(extra_children, intake_extract.child_row(e.child))
    placements = _columns("placements")
    for p in (
        Placement.objects.select_related("episode", "resource_home")
        .order_by("episode__child_id", "episode__removal_date", "start_date")
        .iterator(chunk_size=2000)
    ):
        _append(
            placements,
            {
                "child_id": str(p.episode.child_id),
                "removal_date": p.episode.removal_date,
                "start_date": p.start_date,
                "end_date": p.end_date,
                "setting": int(p.setting),
                "temporary": int(p.temporary),
                "provider_id": p.resource_home.code if p.resource_home else None,
            },
        )
    children = pa.concat_tables(
        [
            tables["children"],
            pa.Table.from_pydict(extra_children, schema=ARROW_SCHEMAS["children"]),
        ]
    )
    return conform_tables(
        {
            "children": children,
            "reports": tables["reports"],
            "episodes": pa.Table.from_pydict(episodes, schema=ARROW_SCHEMAS["episodes"]),
            "placements": pa.Table.from_pydict(placements, schema=ARROW_SCHEMAS["placements"]),
        }
    )
