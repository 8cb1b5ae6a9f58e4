"""A match score's explanation in the words a worker reads beside a search result."""

from __future__ import annotations

from kinfolk.matching import Score
from kinfolk.matching.model import GUARD, MOVED

# The worker-facing phrase for each field and comparison level of kinfolk.matching.
_PHRASES: dict[tuple[str, str], str] = {
    ("first_name", "exact"): "first name matches",
    ("first_name", "nickname"): "first name is a nickname of the other",
    ("first_name", "jaro-winkler >= 0.92"): "first name similar",
    ("first_name", "similar, same sound or misspelt nickname"): "first name sounds alike",
    ("first_name", "initial only"): "first initial matches",
    ("middle_name", "exact"): "middle name matches",
    ("middle_name", "initial"): "middle initial matches",
    ("middle_name", "similar"): "middle name similar",
    ("last_name", "exact"): "last name matches",
    ("last_name", "shares part of a compound surname"): "last name shares part of a surname",
    ("last_name", "jaro-winkler >= 0.92"): "last name similar",
    ("last_name", "similar or same sound"): "last name sounds alike",
    ("date_of_birth", "exact"): "date of birth matches",
    ("date_of_birth", "day and month swapped"): "date of birth with day and month swapped",
    ("date_of_birth", "one typo"): "date of birth differs by one digit",
    ("date_of_birth", "within about a year"): "born within a year",
    ("sex", "same"): "sex matches",
    ("ssn", "exact"): "SSN matches",
    ("ssn", "last four digits agree"): "last four digits of the SSN match",
    ("ssn", "one typo"): "SSN differs by one digit",
    ("street", "exact"): "street matches",
    ("street", "nearly the same"): "street nearly the same",
    ("street", "similar"): "street similar",
    ("city", "exact"): "city matches",
    ("city", "similar"): "city similar",
    ("postcode", "exact"): "postcode matches",
    ("postcode", "one typo"): "postcode differs by one digit",
    ("phone", "exact"): "phone matches",
    ("phone", "last seven digits"): "last seven digits of the phone match",
}


def signed(weight: float) -> str:
    """A weight as the worker reads it: "+4.1", "−2.0" (a true minus sign)."""
    return f"{weight:+.1f}".replace("-", "\u2212")


def _phrase(field: str, level: str, weight: float) -> str:
    note = ""
    if (field, level) not in _PHRASES and ", " in level:
        # A term-frequency note ("exact, common name") qualifies the level.
        level, _, note = level.rpartition(", ")
    if field == MOVED:
        return "home details differ, counted once as a move"
    if weight > 0:
        phrase = _PHRASES.get((field, level), f"{field.replace('_', ' ')}: {level}")
        return f"{phrase} ({note})" if note else phrase
    label = field.replace("_", " ")
    return f"{label} differs" if level == "different" else f"{label} differs ({level})"


def explain_score(score: Score, *, count_guard: bool = True) -> list[str]:
    """A match score's evidence, strongest first, each line with its weight (log2 odds).

    The weights are the model's own: the starting odds (the last line) plus every line
    add up to the score whose probability is shown beside them, so a worker sees which
    fields agreed and how much each counted. With ``count_guard=False`` a guard (possible
    twins, a household member) is named but not counted, for a steward's queue that shows
    the probability the pair would have had without it.
    """
    lines: list[str] = []
    for c in sorted(score.contributions, key=lambda c: (-abs(c.weight), c.field)):
        if c.level == "missing" or abs(c.weight) < 0.05:
            continue
        if c.field == GUARD:
            # A guard (twins, household members, parent and child) holds the score down.
            phrase = f"may be two people: {c.level}"
            line = f"{signed(c.weight)} {phrase}" if count_guard else f"{phrase} (not counted)"
        else:
            line = f"{signed(c.weight)} {_phrase(c.field, c.level, c.weight)}"
        if line not in lines:
            lines.append(line)
    lines.append(f"{signed(score.prior_weight)} starting odds, before any evidence")
    return lines


def weight_without_guard(score: Score) -> float:
    """The score's log2 odds before any guard, for the review of a pair a guard held apart."""
    return score.match_weight - sum(c.weight for c in score.contributions if c.field == GUARD)
