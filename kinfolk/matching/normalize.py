"""Normalisation of names, dates, addresses and numbers, and the phonetic keys built on them.

Everything here is a pure function of one record, computed once per record (on load or
when the search index stores it) so the pairwise comparisons only look things up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from nicknames import NickNamer

from kinfolk.matching.records import PersonRecord

# Suffixes and titles carry no identity but break exact comparison ("Smith Jr" vs "Smith").
_SUFFIXES = {
    "jr": "jr",
    "junior": "jr",
    "sr": "sr",
    "senior": "sr",
    "ii": "ii",
    "iii": "iii",
    "iv": "iv",
}
_NAME_NOISE = frozenset({*_SUFFIXES, "mr", "mrs", "ms", "miss", "dr", "baby", "unknown", "unk"})
# Surname particles: "De La Cruz" and "Cruz" are often the same family name typed twice ways.
_PARTICLES = frozenset(
    {"de", "la", "del", "der", "den", "van", "von", "da", "di", "do", "le", "st"}
)
# Placeholders that intake staff type when a name is not known yet.
_PLACEHOLDERS = frozenset({"unknown", "unk", "baby", "boy", "girl", "infant", "nfn", "nln", "fnu"})
_STREET_WORDS = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "place": "pl",
    "court": "ct",
    "crescent": "cres",
    "lane": "ln",
    "boulevard": "blvd",
    "circuit": "cct",
    "terrace": "tce",
    "highway": "hwy",
    "parade": "pde",
    "apartment": "apt",
    "unit": "apt",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces.

    Apostrophes vanish ("O'Brien" -> "obrien") while hyphens and other marks become a
    space, so a compound surname keeps its parts apart.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_only.casefold().replace("'", "").replace("\u2019", "")
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", lowered)).strip()


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """A name folded, without titles, suffixes and placeholders such as "Baby" or "Unknown"."""
    words = [w for w in fold(text).split() if w not in _NAME_NOISE]
    if not words or all(w in _PLACEHOLDERS for w in words):
        return ""
    return " ".join(words)


def surname_parts(last: str) -> tuple[str, ...]:
    """Parts of a normalised (possibly compound) surname, particles dropped."""
    return tuple(p for p in last.split() if p not in _PARTICLES and len(p) > 1)


def split_name_order(first: str, last: str) -> tuple[str, str]:
    """Undo "LAST, FIRST" typed into a single field; other orders are left to comparison."""
    for field in (last, first):
        if "," in field and (not first or not last or first == last):
            left, _, right = field.partition(",")
            if left.strip() and right.strip():
                return right.strip(), left.strip()
    return first, last


@lru_cache(maxsize=200_000)
def normalize_street(text: str) -> str:
    """Folded street with common words abbreviated ("Main Street" -> "main st")."""
    return " ".join(_STREET_WORDS.get(w, w) for w in fold(text).split())


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@lru_cache(maxsize=200_000)
def nysiis(word: str) -> str:
    return jellyfish.nysiis(word) if word else ""


@lru_cache(maxsize=200_000)
def metaphone(word: str) -> str:
    return jellyfish.metaphone(word) if word else ""


@lru_cache(maxsize=1)
def nickname_table() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=100_000)
def name_group(first: str) -> frozenset[str]:
    """The name and its formal forms: "bill" -> {bill, william, ...}; shared = nickname match.

    The table is the ``nicknames`` package (Carlton Northern's hand-curated list of
    English given names and nicknames), not something kept here.
    """
    if not first:
        return frozenset()
    return frozenset({first, *nickname_table().canonicals_of(first)})


@lru_cache(maxsize=100_000)
def related_names(first: str) -> frozenset[str]:
    """Every form a person called ``first`` may also be written as (formal and nicknames)."""
    group = name_group(first)
    nn = nickname_table()
    out = set(group)
    for name in group:
        out |= nn.nicknames_of(name)
    return frozenset(out)


def nickname_match(a: str, b: str) -> bool:
    return bool(name_group(a) & name_group(b))


@dataclass(frozen=True, slots=True)
class Normalized:
    """One record ready for comparison: folded fields, phonetic keys, date parts."""

    record_id: str
    first: str
    middle: str
    last: str
    first_key: str
    last_key: str
    dob_year: int
    dob_month: int
    dob_day: int
    sex: str
    ssn: str
    street: str
    street_number: str
    city: str
    state: str
    postcode: str
    phone: str
    # "jr", "sr", "ii"...: kept apart from the name, as it is what tells a parent from a child.
    suffix: str = ""
    # YYYYMMDD, for the one-typo comparison of birth dates.
    dob_text: str = ""

    @property
    def has_dob(self) -> bool:
        return self.dob_year > 0


def normalize(record: PersonRecord) -> Normalized:
    """Normalise a record; empty or placeholder values become empty strings (missing)."""
    first_raw, last_raw = split_name_order(record.first_name, record.last_name)
    first = normalize_name(first_raw)
    middle = normalize_name(record.middle_name)
    # A first name typed as "Mary Ann" keeps only the first word as the given name; the rest is
    # treated as a middle name when none was recorded, as intake workers split them either way.
    if " " in first:
        head, _, rest = first.partition(" ")
        first = head
        middle = middle or rest
    last = normalize_name(last_raw)
    suffix = next(
        (
            _SUFFIXES[w]
            for w in (*fold(last_raw).split(), *fold(first_raw).split())
            if w in _SUFFIXES
        ),
        "",
    )
    dob = record.date_of_birth
    street = normalize_street(record.street)
    number = street.split(" ", 1)[0] if street[:1].isdigit() else ""
    sex = record.sex.strip().upper()[:1]
    phone = digits(record.phone)
    return Normalized(
        record_id=record.record_id,
        first=first,
        middle=middle,
        last=last,
        first_key=nysiis(first),
        last_key=nysiis(last.replace(" ", "")),
        dob_year=dob.year if dob else 0,
        dob_month=dob.month if dob else 0,
        dob_day=dob.day if dob else 0,
        sex=sex if sex in ("M", "F") else "",
        ssn=digits(record.ssn),
        street=street,
        street_number=number,
        city=fold(record.city),
        state=fold(record.state),
        postcode=fold(record.postcode).replace(" ", ""),
        phone=phone[-10:] if len(phone) >= 7 else "",
        suffix=suffix,
        dob_text=f"{dob.year:04d}{dob.month:02d}{dob.day:02d}" if dob else "",
    )
