"""Reads of episodes, placements and resource homes, filtered by the access policy.

Placements have no org unit of their own: a user sees a placement when they see its episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from kinfolk.core import access
from kinfolk.core.models import User
from kinfolk.intake.history import HistoryItem, ProvidedHistory
from kinfolk.placements.models import Episode, EpisodeEvent, Placement, ResourceHome


def _visible_episodes(user: User) -> QuerySet[Episode]:
    return access.visible(user, "placement.view", Episode.objects.all())


def episode_list(*, user: User, in_care_only: bool = False) -> QuerySet[Episode]:
    qs = _visible_episodes(user).select_related("org_unit", "child")
    if in_care_only:
        qs = qs.filter(discharge_date__isnull=True)
    return qs.order_by("-removal_date")


def episode_get(*, user: User, episode_id: Any) -> Episode:
    """One episode with its placements and events; the view (or refusal) is audited."""
    qs = Episode.objects.select_related("child", "case").prefetch_related(
        Prefetch("placements", queryset=Placement.objects.select_related("resource_home")),
        Prefetch("events", queryset=EpisodeEvent.objects.select_related("by")),
    )
    return access.access_record_by_id(user, Episode, episode_id, "placement.view", queryset=qs)


def placement_list(*, user: User, episode_id: Any) -> list[Placement]:
    """An episode's placements in order, empty when the user may not see the episode."""
    return list(
        Placement.objects.filter(episode__in=_visible_episodes(user).filter(pk=episode_id))
        .select_related("resource_home")
        .order_by("start_date")
    )


def resource_home_list(*, user: User, home_type: str = "") -> QuerySet[ResourceHome]:
    qs = access.visible(user, "placement.view", ResourceHome.objects.all())
    if home_type:
        qs = qs.filter(home_type=home_type)
    return qs.select_related("org_unit")


def current_placements_of(*, user: User, person_ids: Sequence[Any]) -> dict[Any, Placement]:
    """Each child's current placement (its episode open), for the children the user may see
    in care; the episode and its office come joined."""
    rows = (
        Placement.objects.filter(
            end_date__isnull=True,
            episode__child_id__in=list(person_ids),
            episode__discharge_date__isnull=True,
            episode__in=_visible_episodes(user),
        )
        .select_related("episode", "episode__org_unit", "resource_home")
        .order_by("episode__removal_date")
    )
    return {p.episode.child_id: p for p in rows}


def current_placement_history(user: User, person_ids: Sequence[Any]) -> dict[Any, ProvidedHistory]:
    """The prior-history panel's current placements (a provider for ``intake.history``)."""
    seen = current_placements_of(user=user, person_ids=person_ids)
    in_care = set(
        Episode.objects.filter(
            child_id__in=list(person_ids), discharge_date__isnull=True
        ).values_list("child_id", flat=True)
    )
    out: dict[Any, ProvidedHistory] = {}
    for person_id in in_care:
        placement = seen.get(person_id)
        if placement is None:
            out[person_id] = ProvidedHistory(hidden=1)
            continue
        home = placement.resource_home
        where = [f"{home.get_home_type_display()} {home.code}"] if home is not None else []
        out[person_id] = ProvidedHistory(
            items=[
                HistoryItem(
                    record_type=Episode.RECORD_TYPE,
                    record_id=str(placement.episode_id),
                    label=f"In care: {placement.get_setting_display()}"
                    + (" (temporary)" if placement.temporary else ""),
                    office=placement.episode.org_unit.name,
                    since=placement.start_date,
                    detail="; ".join(
                        [*where, f"removed {placement.episode.removal_date:%Y-%m-%d}"]
                    ),
                )
            ]
        )
    return out
