"""Keep django-simple-history from building a manager class on every save.

``HistoryDescriptor.__get__`` (simple-history 3.x) calls ``Manager.from_queryset`` each time a
model's ``history`` is read, and simple-history reads it for every historical row it writes:
a new class, built by introspecting every QuerySet method, per saved row. The class depends
only on the descriptor's manager and queryset classes, so it is built once per pair.
"""

from __future__ import annotations

import functools
from typing import Any

from simple_history.manager import HistoryDescriptor


@functools.cache
def _manager_class(manager: type[Any], queryset: type[Any]) -> type[Any]:
    return manager.from_queryset(queryset)


def _get(self: HistoryDescriptor, instance: Any, owner: Any) -> Any:
    return _manager_class(self.manager_class, self.queryset_class)(self.model, instance)


def build_history_managers_once() -> None:
    HistoryDescriptor.__get__ = _get
