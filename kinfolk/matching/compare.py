"""Field comparisons: each turns a pair of values into a comparison level.

Level 0 is the strongest agreement, the last level is outright disagreement, and
``MISSING`` (-1) means one side had no value, which carries no evidence either way.
The levels are what the Fellegi–Sunter model learns m and u probabilities for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from kinfolk.matching.normalize import (
    Normalized,
    metaphone,
    name_group,
    nysiis,
    related_names,
    surname_parts,
)

MISSING = -1


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    levels: tuple[str, ...]
    # Whether the exact level gets a term-frequency adjustment: a match on "Smith" is weaker
    # evidence than a match on "Okonkwo", so the exact level's u becomes the value's frequency.
    term_frequency: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "first_name",
        (
            "exact",
            "nickname",
            "jaro-winkler >= 0.92",
            "similar, same sound or misspelt nickname",
            "initial only",
            "different",
        ),
        term_frequency=True,
    ),
    FieldSpec("middle_name", ("exact", "initial", "similar", "different")),
    FieldSpec(
        "last_name",
        (
            "exact",
            "shares part of a compound surname",
            "jaro-winkler >= 0.92",
            "similar or same sound",
            "different",
        ),
        term_frequency=True,
    ),
    FieldSpec(
        "date_of_birth",
        ("exact", "day and month swapped", "one typo", "within about a year", "different"),
    ),
    FieldSpec("sex", ("same", "different")),
    FieldSpec("ssn", ("exact", "last four digits agree", "one typo", "different")),
    FieldSpec("street", ("exact", "nearly the same", "similar", "different")),
    FieldSpec("city", ("exact", "similar", "different")),
    FieldSpec("postcode", ("exact", "one typo", "different")),
    FieldSpec("phone", ("exact", "last seven digits", "different")),
)
FIELD_INDEX = {spec.name: i for i, spec in enumerate(FIELDS)}
N_FIELDS = len(FIELDS)

_jw = JaroWinkler.normalized_similarity
_osa = OSA.distance


# Name pairs repeat a great deal (common names meet each other in every block), so the
# name comparisons are cached.
@lru_cache(maxsize=500_000)
def compare_first(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    if len(a) == 1 or len(b) == 1:
        return 4 if a[0] == b[0] else 5
    if name_group(a) & name_group(b):
        return 1
    sim = _jw(a, b)
    if sim >= 0.92:
        return 2
    if sim >= 0.8 or nysiis(a) == nysiis(b) or metaphone(a) == metaphone(b):
        return 3
    # A misspelt nickname ("Bil" for William) is close to one of the name's forms.
    if (
        max(_jw(a, r) for r in related_names(b)) >= 0.9
        or max(_jw(b, r) for r in related_names(a)) >= 0.9
    ):
        return 3
    return 5


@lru_cache(maxsize=500_000)
def compare_last(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    if " " in a or " " in b:
        if set(surname_parts(a)) & set(surname_parts(b)):
            return 1
        a, b = a.replace(" ", ""), b.replace(" ", "")
        if a == b:
            return 0
    sim = _jw(a, b)
    if sim >= 0.92:
        return 2
    if sim >= 0.8 or nysiis(a) == nysiis(b) or metaphone(a) == metaphone(b):
        return 3
    return 4


def compare_middle(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    if a[0] == b[0] and (len(a) == 1 or len(b) == 1):
        return 1
    return 2 if _jw(a, b) >= 0.88 else 3


def compare_dob(a: Normalized, b: Normalized) -> int:
    if not a.dob_year or not b.dob_year:
        return MISSING
    if a.dob_year == b.dob_year:
        if a.dob_month == b.dob_month and a.dob_day == b.dob_day:
            return 0
        if a.dob_month == b.dob_day and a.dob_day == b.dob_month:
            return 1
    if _osa(a.dob_text, b.dob_text) <= 1:
        return 2
    # Ages given "about five years old" become a guessed date, so near dates are weak evidence.
    days = abs(
        (a.dob_year - b.dob_year) * 365 + (a.dob_month - b.dob_month) * 30 + a.dob_day - b.dob_day
    )
    return 3 if days <= 400 else 4


def compare_ssn(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    if (len(a) == 4 or len(b) == 4) and a[-4:] == b[-4:]:
        return 1
    if len(a) == len(b) == 9 and _osa(a, b) <= 1:
        return 2
    return 3


def compare_street(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    ratio = token_set_ratio(a, b)
    if ratio >= 90:
        return 1
    return 2 if ratio >= 70 else 3


def compare_city(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    return 1 if _jw(a, b) >= 0.88 else 2


def compare_postcode(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    return 1 if _osa(a, b) <= 1 else 2


def compare_phone(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 0
    return 1 if a[-7:] == b[-7:] else 2


def names_swapped(a: Normalized, b: Normalized) -> bool:
    """Whether b's first and last names look entered the wrong way round relative to a."""
    if not (a.first and a.last and b.first and b.last) or a.first == b.first:
        return False
    if a.first == b.last and a.last == b.first:
        return True
    return (
        _jw(a.first, b.last) >= 0.92
        and _jw(a.last, b.first) >= 0.92
        and (_jw(a.first, b.first) < 0.8 and _jw(a.last, b.last) < 0.8)
    )


def compare(a: Normalized, b: Normalized) -> tuple[int, ...]:
    """The comparison vector (one level per field in FIELDS) for a pair of records."""
    if names_swapped(a, b):
        first = compare_first(a.first, b.last)
        last = compare_last(a.last, b.first)
    else:
        first = compare_first(a.first, b.first)
        last = compare_last(a.last, b.last)
    return (
        first,
        compare_middle(a.middle, b.middle),
        last,
        compare_dob(a, b),
        MISSING if not a.sex or not b.sex else (0 if a.sex == b.sex else 1),
        compare_ssn(a.ssn, b.ssn),
        compare_street(a.street, b.street),
        compare_city(a.city, b.city),
        compare_postcode(a.postcode, b.postcode),
        compare_phone(a.phone, b.phone),
    )
