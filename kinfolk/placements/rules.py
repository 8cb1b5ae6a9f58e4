"""The invariants of episodes and placements, as plain functions over dates.

One statement of each rule, used by the services (one change at a time) and by the simulator's
loader (a whole history at once). Each returns the problems it finds as (field, message) pairs,
an empty list when the history holds; a placement's end is its last day (inclusive).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

Problem = tuple[str, str]


def episode_problems(episodes: Sequence[tuple[date, date | None]]) -> list[Problem]:
    """One child's episodes (removal, discharge): each discharge on or after its removal, and
    no two overlapping (a later removal on or after the earlier discharge; an open episode is
    the child's last)."""
    problems: list[Problem] = []
    ordered = sorted(episodes, key=lambda e: e[0])
    for removal, discharge in ordered:
        if discharge is not None and discharge < removal:
            problems.append(("discharge_date", "The discharge comes before the removal."))
    for (_, discharge), (next_removal, _) in zip(ordered, ordered[1:], strict=False):
        if discharge is None:
            problems.append(("removal_date", "The child is still in care from an earlier removal."))
        elif next_removal < discharge:
            problems.append(
                ("removal_date", "This removal falls inside another episode of the child.")
            )
    return problems


def placement_problems(
    removal: date,
    discharge: date | None,
    placements: Sequence[tuple[date, date | None]],
) -> list[Problem]:
    """One episode's placements (start, end): inside the episode, not overlapping, and all
    ended once the child is discharged (only the last may still be current)."""
    problems: list[Problem] = []
    ordered = sorted(placements, key=lambda p: p[0])
    if not ordered:
        return [("placements", "An episode has at least its first placement.")]
    for start, end in ordered:
        if start < removal:
            problems.append(("start_date", "A placement cannot start before the removal."))
        if discharge is not None and start > discharge:
            problems.append(("start_date", "A placement cannot start after the discharge."))
        if end is not None and end < start:
            problems.append(("end_date", "A placement cannot end before it starts."))
        if discharge is not None and (end is None or end > discharge):
            problems.append(("end_date", "Every placement ends by the discharge."))
    for (_, end), (next_start, _) in zip(ordered, ordered[1:], strict=False):
        if end is None:
            problems.append(("end_date", "Only the last placement can be current."))
        elif next_start <= end:
            problems.append(("start_date", "Placements of an episode cannot overlap."))
    return problems
