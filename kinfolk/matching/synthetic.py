"""Synthetic persons and the typos real intake makes, for tests and the benchmark.

Every name here is made up: first names come from the nickname table's formal names,
surnames, streets and towns are built from syllables. Nothing resembles a real record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache

import numpy as np

from kinfolk.matching.normalize import nickname_table
from kinfolk.matching.records import PersonRecord

_ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "br",
    "ch",
    "cl",
    "dr",
    "gr",
    "sh",
    "st",
    "th",
    "tr",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou", "y")
_CODAS = ("", "", "n", "r", "s", "l", "m", "t", "ck", "rd", "nd", "son", "ton", "ley", "er")
_SUFFIXES = ("street", "road", "avenue", "drive", "lane", "court", "place", "way")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_EPOCH = dt.date(1940, 1, 1).toordinal()
_SPAN = dt.date(2025, 12, 31).toordinal() - _EPOCH


def _words(rng: np.random.Generator, n: int, syllables: tuple[int, int]) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(syllables[0], syllables[1] + 1))
        parts = [
            _ONSETS[int(rng.integers(len(_ONSETS)))]
            + _VOWELS[int(rng.integers(len(_VOWELS)))]
            + _CODAS[int(rng.integers(len(_CODAS)))]
            for _ in range(k)
        ]
        out.add("".join(parts))
    return sorted(out)


@lru_cache(maxsize=1)
def _first_names() -> tuple[str, ...]:
    return tuple(sorted(nickname_table().nickname_lookup))


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def population(n: int, *, seed: int = 1) -> list[PersonRecord]:
    """``n`` distinct synthetic persons with ids ``p0``, ``p1``, ..."""
    rng = np.random.default_rng(seed)
    # Shuffled so that name frequency does not follow the alphabet.
    firsts = tuple(rng.permutation(np.asarray(_first_names())).tolist())
    surnames = rng.permutation(np.asarray(_words(rng, 20_000, (2, 3)))).tolist()
    streets = _words(rng, 5_000, (1, 2))
    towns = _words(rng, 800, (2, 3))
    first = rng.choice(len(firsts), n, p=_zipf_weights(len(firsts), 0.9))
    middle = rng.choice(len(firsts), n, p=_zipf_weights(len(firsts), 0.9))
    has_middle = rng.random(n) < 0.6
    last = rng.choice(len(surnames), n, p=_zipf_weights(len(surnames), 0.8))
    dob = rng.integers(0, _SPAN, n) + _EPOCH
    sex = rng.choice(np.array(["F", "M"]), n)
    street = rng.integers(0, len(streets), n)
    suffix = rng.integers(0, len(_SUFFIXES), n)
    number = rng.integers(1, 999, n)
    town = rng.integers(0, len(towns), n)
    has_ssn = rng.random(n) < 0.4
    ssn = rng.integers(100_000_000, 899_999_999, n)
    has_phone = rng.random(n) < 0.5
    phone = rng.integers(2_000_000_000, 9_999_999_999, n)
    out = []
    for i in range(n):
        t = int(town[i])
        out.append(
            PersonRecord(
                record_id=f"p{i}",
                first_name=firsts[int(first[i])].title(),
                middle_name=firsts[int(middle[i])].title() if has_middle[i] else "",
                last_name=surnames[int(last[i])].title(),
                date_of_birth=dt.date.fromordinal(int(dob[i])),
                sex=str(sex[i]),
                ssn=str(ssn[i]) if has_ssn[i] else "",
                street=f"{number[i]} {streets[int(street[i])].title()} {_SUFFIXES[int(suffix[i])]}",
                city=towns[t].title(),
                state=f"S{t % 50:02d}",
                postcode=f"{10000 + t * 97 % 89999:05d}",
                phone=str(phone[i]) if has_phone[i] else "",
            )
        )
    return out


def typo(word: str, rng: np.random.Generator) -> str:
    """One keyboard slip: a letter dropped, doubled, replaced or two swapped."""
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(4))
    letter = _LETTERS[int(rng.integers(26))]
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + letter + word[i:]
    if kind == 2:
        return word[:i] + letter + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def nickname_of(first: str, rng: np.random.Generator) -> str:
    options = sorted(nickname_table().nicknames_of(first))
    if not options:
        return first
    return options[int(rng.integers(len(options)))].title()


def corrupt(record: PersonRecord, rng: np.random.Generator, *, record_id: str = "") -> PersonRecord:
    """The same person as intake might type them again: two or three slips.

    Slips: a typo in either name, a nickname, day and month swapped, a birth year off by
    one, the middle name, SSN, phone or address left out.
    """
    r = replace(record, record_id=record_id or record.record_id)
    slips = rng.choice(8, size=int(rng.integers(2, 4)), replace=False).tolist()
    for slip in slips:
        if slip == 0:
            r = replace(r, first_name=typo(r.first_name, rng))
        elif slip == 1:
            r = replace(r, last_name=typo(r.last_name, rng))
        elif slip == 2:
            r = replace(r, first_name=nickname_of(r.first_name.lower(), rng))
        elif slip == 3 and r.date_of_birth and r.date_of_birth.day <= 12:
            d = r.date_of_birth
            r = replace(r, date_of_birth=d.replace(month=d.day, day=d.month))
        elif slip == 4 and r.date_of_birth:
            d = r.date_of_birth
            year = d.year + (1 if rng.random() < 0.5 else -1)
            r = replace(r, date_of_birth=d.replace(year=year, day=min(d.day, 28)))
        elif slip == 5:
            r = replace(r, middle_name="", ssn="", phone="")
        elif slip == 6:
            r = replace(r, street="", postcode="", city="")
        elif slip == 7 and r.ssn:
            r = replace(r, ssn=r.ssn[-4:])
    return r


def intake_query(record: PersonRecord, rng: np.random.Generator) -> PersonRecord:
    """What a hotline caller gives for a known person: slips, and often much less.

    On top of ``corrupt``: half the time only name, birth date and sex are known; one
    time in five only an age, so the birth date is a guess (1 January of the year).
    """
    q = corrupt(record, rng, record_id="query")
    if rng.random() < 0.5:
        q = PersonRecord(
            record_id="query",
            first_name=q.first_name,
            last_name=q.last_name,
            date_of_birth=q.date_of_birth,
            sex=q.sex,
        )
    if q.date_of_birth and rng.random() < 0.2:
        q = replace(q, date_of_birth=dt.date(q.date_of_birth.year, 1, 1))
    return q
