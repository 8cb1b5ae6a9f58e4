"""What the prior-history panel shows besides reports, supplied by the apps above intake.

Intake may not import cases or placements (the dependency direction runs the other way), yet
the hotline must see each person's open cases and current placement while taking a call. So
those apps register a *history provider* here from their ``AppConfig.ready()``; the panel asks
every provider, and each applies the access policy in its own query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kinfolk.core.models import User


@dataclass(frozen=True)
class HistoryItem:
    """One open record of a person (an open case, a current placement), ready to show."""

    record_type: str  # "case", "episode", ... as in audit rows
    record_id: str
    label: str  # what it is, e.g. "Case CS-1234 · Foster care"
    office: str  # the org unit that manages it
    since: date | None  # when it began (case opened, placement started)
    detail: str = ""


@dataclass
class ProvidedHistory:
    """A provider's answer for one person: what the user may see, and a count of the rest."""

    items: list[HistoryItem] = field(default_factory=list)
    hidden: int = 0


# A provider: (user, person ids) -> {person id: ProvidedHistory}; people it knows nothing of
# may be left out.
HistoryProvider = Callable[[User, Sequence[Any]], dict[Any, ProvidedHistory]]

_providers: dict[str, HistoryProvider] = {}


def register(name: str, provider: HistoryProvider) -> None:
    """Add (or replace, for a re-run ``ready()``) the provider called ``name``."""
    _providers[name] = provider


def providers() -> dict[str, HistoryProvider]:
    return dict(_providers)


def collect(user: User, person_ids: Sequence[Any]) -> dict[Any, ProvidedHistory]:
    """Every provider's items for each person, in registration order."""
    out: dict[Any, ProvidedHistory] = {}
    if not person_ids:
        return out
    for provider in _providers.values():
        for person_id, provided in provider(user, person_ids).items():
            mine = out.setdefault(person_id, ProvidedHistory())
            mine.items.extend(provided.items)
            mine.hidden += provided.hidden
    return out
