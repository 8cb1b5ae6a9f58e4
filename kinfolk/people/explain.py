"""A match score's explanation in the words a worker reads beside a search result."""

from __future__ import annotations

from kinfolk.matching import Score

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


def explain_score(score: Score) -> list[str]:
    """A match score's evidence as phrases, strongest first, for the worker's screen."""
    lines: list[str] = []
    for c in sorted(score.contributions, key=lambda c: (-abs(c.weight), c.field)):
        if c.level == "missing" or abs(c.weight) < 0.05:
            continue
        level, note = c.level, ""
        if (c.field, level) not in _PHRASES and ", " in level:
            # A term-frequency note ("exact, common name") qualifies the level.
            level, _, note = level.rpartition(", ")
        if c.field == "guard":
            # A guard (twins, household members, parent and child) holds the score down.
            phrase = f"may be two people: {c.level}"
        elif c.weight > 0:
            phrase = _PHRASES.get((c.field, level), f"{c.field.replace('_', ' ')}: {level}")
            if note:
                phrase = f"{phrase} ({note})"
        else:
            label = c.field.replace("_", " ")
            phrase = f"{label} differs" if level == "different" else f"{label} differs ({level})"
        if phrase not in lines:
            lines.append(phrase)
    return lines
