"""Related rows a service already holds, handed to a model instance as a prefetch would."""

from __future__ import annotations

from typing import Any

from django.db import models


def set_prefetched(instance: models.Model, name: str, rows: list[Any]) -> None:
    """Make ``instance.<name>.all()`` return ``rows`` without a query, exactly as
    ``prefetch_related(name)`` leaves it (Django keeps no public setter for this)."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    cache[name] = queryset
