"""Person matching for the registry: normalise, block, score (Fellegi–Sunter), search.

Django-free. The public names below are imported lazily, so ``kinfolk --help`` (which
imports ``kinfolk.matching.cli``) does not pay for NumPy and RapidFuzz.

    from kinfolk.matching import PersonRecord, SearchIndex, score_pair, dedupe, link
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinfolk.matching.index import Candidate, SearchIndex
    from kinfolk.matching.model import FieldContribution, MatchModel, Score
    from kinfolk.matching.pipeline import dedupe, link, score_pair
    from kinfolk.matching.records import PersonRecord

_EXPORTS = {
    "PersonRecord": "kinfolk.matching.records",
    "SearchIndex": "kinfolk.matching.index",
    "Candidate": "kinfolk.matching.index",
    "MatchModel": "kinfolk.matching.model",
    "Score": "kinfolk.matching.model",
    "FieldContribution": "kinfolk.matching.model",
    "score_pair": "kinfolk.matching.pipeline",
    "dedupe": "kinfolk.matching.pipeline",
    "link": "kinfolk.matching.pipeline",
}
__all__ = [
    "Candidate",
    "FieldContribution",
    "MatchModel",
    "PersonRecord",
    "Score",
    "SearchIndex",
    "dedupe",
    "link",
    "score_pair",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kinfolk.matching' has no attribute {name!r}")
