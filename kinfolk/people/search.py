"""Search keys and scoring for the registry's person search.

This is the seam the matching engine (``kinfolk.matching``) replaces: ``keys_for`` fills the
indexed columns, ``score`` ranks candidates. Both are plain functions of plain values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import jellyfish
from rapidfuzz.distance import JaroWinkler

_NOT_LETTERS = re.compile(r"[^a-z ]+")


def normalise(name: str) -> str:
    """Lower case, accents off, hyphens and punctuation to spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    ascii_only = decomposed.encode("ascii", "ignore").decode().lower().replace("-", " ")
    return " ".join(_NOT_LETTERS.sub(" ", ascii_only).split())


def phonetic(name: str) -> str:
    norm = normalise(name).replace(" ", "")
    return jellyfish.nysiis(norm)[:32] if norm else ""


@dataclass(frozen=True)
class Keys:
    first: str
    last: str
    first_key: str
    last_key: str


def keys_for(first_name: str, last_name: str) -> Keys:
    return Keys(
        first=normalise(first_name)[:100],
        last=normalise(last_name)[:100],
        first_key=phonetic(first_name),
        last_key=phonetic(last_name),
    )


@dataclass
class Score:
    value: float
    reasons: list[str] = field(default_factory=list)


def _name_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    whole = JaroWinkler.similarity(a, b)
    # Compound surnames: "garcia lopez" should find "garcia" and vice versa.
    parts = max((JaroWinkler.similarity(x, y) for x in a.split() for y in b.split()), default=0.0)
    return max(whole, parts * 0.95)


def score(
    *,
    query_first: str,
    query_last: str,
    query_dob: date | None,
    cand_first: str,
    cand_last: str,
    cand_dob: date | None,
    identifier_match: bool = False,
) -> Score:
    """A 0–1 ranking score with the reasons behind it (shown to the worker)."""
    reasons: list[str] = []
    total = 0.0
    weight = 0.0
    if query_last:
        sim = _name_similarity(query_last, cand_last)
        total += 0.45 * sim
        weight += 0.45
        if sim >= 0.99:
            reasons.append("last name matches")
        elif sim >= 0.85:
            reasons.append("last name similar")
    if query_first:
        sim = _name_similarity(query_first, cand_first)
        total += 0.35 * sim
        weight += 0.35
        if sim >= 0.99:
            reasons.append("first name matches")
        elif sim >= 0.85:
            reasons.append("first name similar")
    if query_dob:
        weight += 0.2
        if cand_dob == query_dob:
            total += 0.2
            reasons.append("date of birth matches")
        elif (
            cand_dob
            and cand_dob.year == query_dob.year
            and ((cand_dob.month, cand_dob.day) == (query_dob.day, query_dob.month))
        ):
            total += 0.15
            reasons.append("date of birth with day and month swapped")
        elif cand_dob and abs(cand_dob.year - query_dob.year) <= 1:
            total += 0.06
            reasons.append("born within a year")
    value = total / weight if weight else 0.0
    if identifier_match:
        value = max(value, 0.99)
        reasons.insert(0, "identifier matches")
    return Score(round(value, 4), reasons)
