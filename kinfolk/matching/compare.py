"""Field comparisons: each turns a pair of values into a comparison level.

Level 0 is the strongest agreement, the last level is outright disagreement, and
``MISSING`` (-1) means one side had no value, which carries no evidence either way.
The levels are what the Fellegi–Sunter model learns m and u probabilities for.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio
from rapidfuzz.process import cpdist

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
    # Two letters of a nickname swapped ("Pma" for Pam): a slip, not another name. Only
    # swaps, as one letter changed ("Tim" for Tom) is often a brother's name.
    if _transposed_form(a, b) or _transposed_form(b, a):
        return 3
    return 5


def compare_first_many(a: Sequence[str], b: Sequence[str]) -> npt.NDArray[np.int8]:
    """``compare_first`` for many pairs: the same levels, the string similarities of all
    pairs (and of every nickname form) computed at once in C rather than pair by pair."""
    out = np.full(len(a), 5, dtype=np.int8)
    todo = []
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        if not x or not y:
            out[k] = MISSING
        elif x == y:
            out[k] = 0
        elif len(x) == 1 or len(y) == 1:
            out[k] = 4 if x[0] == y[0] else 5
        elif name_group(x) & name_group(y):
            out[k] = 1
        else:
            todo.append(k)
    if not todo:
        return out
    rows = np.asarray(todo, dtype=np.int64)
    sim = np.asarray(
        cpdist([a[k] for k in todo], [b[k] for k in todo], scorer=_jw, dtype=np.float64)
    )
    out[rows[sim >= 0.92]] = 2
    out[rows[(sim >= 0.8) & (sim < 0.92)]] = 3
    tail = []
    for k in rows[sim < 0.8].tolist():
        x, y = a[k], b[k]
        if nysiis(x) == nysiis(y) or metaphone(x) == metaphone(y):
            out[k] = 3
        else:
            tail.append(k)
    if not tail:
        return out
    # A misspelt nickname: either name close to one of the other's forms.
    queries: list[str] = []
    choices: list[str] = []
    owners: list[int] = []
    for t, k in enumerate(tail):
        x, y = a[k], b[k]
        for query, name in ((x, y), (y, x)):
            forms = _forms(name)
            queries.extend([query] * len(forms))
            choices.extend(forms)
            owners.extend([t] * len(forms))
    best = np.zeros(len(tail))
    if queries:
        scores = np.asarray(cpdist(queries, choices, scorer=_jw, dtype=np.float64))
        np.maximum.at(best, np.asarray(owners, dtype=np.int64), scores)
    for t, k in enumerate(tail):
        if best[t] >= 0.9 or _transposed_form(a[k], b[k]) or _transposed_form(b[k], a[k]):
            out[k] = 3
    return out


@lru_cache(maxsize=100_000)
def _forms(name: str) -> tuple[str, ...]:
    return tuple(related_names(name))


def _transposed_form(a: str, b: str) -> bool:
    """Whether ``a`` is one of ``b``'s forms with two neighbouring letters swapped."""
    if len(a) < 3:
        return False
    forms = _forms_by_letters(b).get(_letters(a))
    return forms is not None and any(_osa(a, r) == 1 for r in forms)


@lru_cache(maxsize=100_000)
def _letters(name: str) -> str:
    return "".join(sorted(name))


@lru_cache(maxsize=100_000)
def _forms_by_letters(name: str) -> dict[str, tuple[str, ...]]:
    """``name``'s forms (see related_names) by their sorted letters: the anagrams to try."""
    out: dict[str, list[str]] = {}
    for form in related_names(name):
        out.setdefault(_letters(form), []).append(form)
    return {letters: tuple(forms) for letters, forms in out.items()}


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
        _compare_sex(a.sex, b.sex),
        compare_ssn(a.ssn, b.ssn),
        compare_street(a.street, b.street),
        compare_city(a.city, b.city),
        compare_postcode(a.postcode, b.postcode),
        compare_phone(a.phone, b.phone),
    )


# -- many pairs at once ---------------------------------------------------------------------
# A file's pairs repeat the same values over and over (a family's address, a common name,
# a duplicate's birth date), so each field is compared once per distinct pair of values
# and the levels are spread back over the pairs: the same levels as ``compare``.


def _codes(
    left: Sequence[Hashable], right: Sequence[Hashable] | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[Hashable]]:
    """Each value's number in one shared vocabulary, for both sides."""
    vocab: dict[Hashable, int] = {}
    ids_left = np.fromiter(
        (vocab.setdefault(v, len(vocab)) for v in left), dtype=np.int64, count=len(left)
    )
    if right is None:
        return ids_left, ids_left, list(vocab)
    ids_right = np.fromiter(
        (vocab.setdefault(v, len(vocab)) for v in right), dtype=np.int64, count=len(right)
    )
    return ids_left, ids_right, list(vocab)


def _per_distinct(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    words: list[Any],
    function: Callable[[Any, Any], int],
    *,
    standard: bool = False,
    many: Callable[[list[Any], list[Any]], npt.NDArray[np.int8]] | None = None,
) -> npt.NDArray[np.int8]:
    """``function(words[a[k]], words[b[k]])`` for every k, computed once per distinct pair.

    With ``standard`` the function is a field comparison (missing when either value is
    empty, 0 when equal, the same either way round), so those pairs are settled without
    calling it and the rest are called once per unordered pair. ``many``, when given,
    does the same as ``function`` for lists of values at once.
    """
    if len(a) == 0:
        return np.empty(0, dtype=np.int8)
    out = np.empty(len(a), dtype=np.int8)
    rows = np.arange(len(a))
    if standard:
        empty = _empty_id(words)
        missing = (a == empty) | (b == empty)
        equal = (a == b) & ~missing
        out[missing] = MISSING
        out[equal] = 0
        rows = np.flatnonzero(~missing & ~equal)
        # The field comparisons are symmetric, so (x, y) and (y, x) are one distinct pair.
        a, b = np.minimum(a, b), np.maximum(a, b)
    width = max(len(words), 1)
    distinct, inverse = np.unique(a[rows] * width + b[rows], return_inverse=True)
    if many is not None:
        codes = distinct.tolist()
        table = many([words[c // width] for c in codes], [words[c % width] for c in codes])
    else:
        table = np.fromiter(
            (function(words[c // width], words[c % width]) for c in distinct.tolist()),
            dtype=np.int8,
            count=len(distinct),
        )
    out[rows] = table[inverse.ravel()]
    return out


def _empty_id(words: list[Any]) -> int:
    try:
        return words.index("")
    except ValueError:
        return -1


def _jw_rows(
    words: list[Any], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Jaro-Winkler similarity of words[a[k]] and words[b[k]], for every k (in C)."""
    if len(a) == 0:
        return np.empty(0)
    return np.asarray(
        cpdist(
            [words[i] for i in a.tolist()],
            [words[j] for j in b.tolist()],
            scorer=_jw,
            dtype=np.float64,
        )
    )


def compare_pairs(
    left: Sequence[Normalized],
    right: Sequence[Normalized] | None,
    pairs_left: npt.NDArray[np.int64],
    pairs_right: npt.NDArray[np.int64],
) -> npt.NDArray[np.int8]:
    """``compare(left[pairs_left[k]], right[pairs_right[k]])`` as row k, for many pairs.

    ``right=None`` compares ``left`` with itself (a dedupe).
    """
    other = left if right is None else right
    gamma = np.empty((len(pairs_left), N_FIELDS), dtype=np.int8)

    def field(
        column: int,
        value: Callable[[Normalized], Hashable],
        function: Callable[[Any, Any], int],
    ) -> None:
        ids_l, ids_r, words = _codes(
            [value(r) for r in left], None if right is None else [value(r) for r in right]
        )
        gamma[:, column] = _per_distinct(
            ids_l[pairs_left], ids_r[pairs_right], words, function, standard=True
        )

    # Names: first and last share one vocabulary, as a swap compares one with the other.
    names_l, names_r, names = _codes(
        [x for r in left for x in (r.first, r.last)],
        None if right is None else [x for r in right for x in (r.first, r.last)],
    )
    fa, la = names_l[0::2][pairs_left], names_l[1::2][pairs_left]
    fb, lb = names_r[0::2][pairs_right], names_r[1::2][pairs_right]
    first = _per_distinct(fa, fb, names, compare_first, standard=True, many=compare_first_many)
    last = _per_distinct(la, lb, names, compare_last, standard=True)
    empty = _empty_id(names)
    # names_swapped, spelt out over arrays: every name present, the first names not equal,
    # and each name close to the other side's other name.
    maybe = (fa != fb) & (fa != empty) & (la != empty) & (fb != empty) & (lb != empty)
    rows = np.flatnonzero(maybe)
    close = (_jw_rows(names, fa[rows], lb[rows]) >= 0.92) & (
        _jw_rows(names, la[rows], fb[rows]) >= 0.92
    )
    rows = rows[close]
    if len(rows):
        exact = (fa[rows] == lb[rows]) & (la[rows] == fb[rows])
        apart = (_jw_rows(names, fa[rows], fb[rows]) < 0.8) & (
            _jw_rows(names, la[rows], lb[rows]) < 0.8
        )
        rows = rows[exact | apart]
        first[rows] = _per_distinct(
            fa[rows], lb[rows], names, compare_first, standard=True, many=compare_first_many
        )
        last[rows] = _per_distinct(la[rows], fb[rows], names, compare_last, standard=True)
    gamma[:, FIELD_INDEX["first_name"]] = first
    gamma[:, FIELD_INDEX["last_name"]] = last

    field(FIELD_INDEX["middle_name"], lambda r: r.middle, compare_middle)
    gamma[:, FIELD_INDEX["date_of_birth"]] = _compare_dobs(left, other, pairs_left, pairs_right)
    field(FIELD_INDEX["sex"], lambda r: r.sex, _compare_sex)
    field(FIELD_INDEX["ssn"], lambda r: r.ssn, compare_ssn)
    field(FIELD_INDEX["street"], lambda r: r.street, compare_street)
    field(FIELD_INDEX["city"], lambda r: r.city, compare_city)
    field(FIELD_INDEX["postcode"], lambda r: r.postcode, compare_postcode)
    field(FIELD_INDEX["phone"], lambda r: r.phone, compare_phone)
    return gamma


def _compare_dobs(
    left: Sequence[Normalized],
    right: Sequence[Normalized],
    pairs_left: npt.NDArray[np.int64],
    pairs_right: npt.NDArray[np.int64],
) -> npt.NDArray[np.int8]:
    """``compare_dob`` over arrays: dates are numbers, so no value needs comparing twice."""

    def parts(records: Sequence[Normalized], pairs: npt.NDArray[np.int64]) -> list[Any]:
        ymd = np.asarray([(r.dob_year, r.dob_month, r.dob_day) for r in records], dtype=np.int64)
        ymd = ymd.reshape(-1, 3)[pairs]
        texts = [r.dob_text if len(r.dob_text) == 8 else "????????" for r in records]
        digits = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(-1, 8)
        return [ymd[:, 0], ymd[:, 1], ymd[:, 2], digits[pairs]]

    ya, ma, da, ta = parts(left, pairs_left)
    yb, mb, db, tb = parts(right, pairs_right)
    # One typo between two eight-digit dates: one digit changed or two neighbours swapped.
    differ = ta != tb
    count = differ.sum(axis=1)
    swapped = (count == 2) & (
        differ[:, :-1] & differ[:, 1:] & (ta[:, :-1] == tb[:, 1:]) & (ta[:, 1:] == tb[:, :-1])
    ).any(axis=1)
    days = np.abs((ya - yb) * 365 + (ma - mb) * 30 + da - db)
    level = np.where(days <= 400, 3, 4)
    level = np.where((count <= 1) | swapped, 2, level)
    same_year = ya == yb
    level = np.where(same_year & (ma == db) & (da == mb), 1, level)
    level = np.where(same_year & (ma == mb) & (da == db), 0, level)
    level = np.where((ya == 0) | (yb == 0), MISSING, level)
    out = level.astype(np.int8)
    # A record whose date text does not match its parts (built by hand): one by one.
    odd = np.flatnonzero(
        ((ta == ord("?")).any(axis=1) | (tb == ord("?")).any(axis=1)) & (out != MISSING)
    )
    for k in odd.tolist():
        out[k] = compare_dob(left[int(pairs_left[k])], right[int(pairs_right[k])])
    return out


def _compare_sex(a: str, b: str) -> int:
    return MISSING if not a or not b else (0 if a == b else 1)
