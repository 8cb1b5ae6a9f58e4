"""Blocking: which pairs are worth comparing at all.

Several keys, each built from different fields, so a typo in any one field still leaves
the true pair sharing some key: birth date (day/month order ignored), the two names'
sounds (order ignored), surname sound + birth year, first-name sound + birth year,
initials + birth year, postcode + either name's sound, postcode + initials, street and
house number, and the identifying numbers (SSN, its last four, phone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from kinfolk.matching.normalize import Normalized, nysiis, related_names

# A key shared by more records than this says too little to be worth every pair in it
# (e.g. a very common surname in one birth year at state scale); other keys still apply.
MAX_BLOCK = 100
# Keys built on the address or on initials are weaker (a whole town may share a postcode),
# so their blocks are cut smaller.
_WEAK_KEYS = frozenset("iqarpx")
_WEAK_SHARE = 4
# Keys on the person (birth date, names, numbers) rather than the household: the pairs
# EM learns from, since pairs that only share an address are mostly relatives, and EM
# would learn "same household" instead of "same person".
PERSON_KEYS = frozenset("dnlfs4t")


def record_keys(r: Normalized) -> list[str]:
    """The blocking keys a record is filed under."""
    keys = []
    if r.dob_year:
        low, high = sorted((r.dob_month, r.dob_day))
        keys.append(f"d{r.dob_year}{low:02d}{high:02d}")
    if r.first_key and r.last_key:
        a, b = sorted((r.first_key, r.last_key))
        keys.append(f"n{a}|{b}")
    if r.last_key and r.dob_year:
        keys.append(f"l{r.last_key}|{r.dob_year}")
    if r.first_key and r.dob_year:
        keys.append(f"f{r.first_key}|{r.dob_year}")
    if r.postcode and r.last_key:
        keys.append(f"p{r.postcode}|{r.last_key}")
    if r.first and r.last and r.dob_year:
        # Initials and birth year: typos in both names and a loose birth date at once.
        keys.append(f"x{r.first[0]}{r.last[0]}|{r.dob_year}")
    if r.postcode and r.first_key:
        keys.append(f"q{r.postcode}|{r.first_key}")
    if r.postcode and r.first and r.last:
        # Both names misspelt and no birth date: the initials in one postcode still meet.
        keys.append(f"i{r.postcode}|{r.first[0]}{r.last[0]}")
    if r.postcode and r.street_number:
        # Household members share it too; the comparison, not blocking, tells them apart.
        keys.append(f"a{r.street_number}|{r.postcode}")
    if r.street_number and " " in r.street:
        # The street alone (number and first word of its name), for a move of postcode or a
        # typo in it.
        keys.append(f"r{r.street.split(' ', 2)[1]}|{r.street_number}")
    if len(r.ssn) == 9:
        keys.append(f"s{r.ssn}")
    if r.ssn:
        keys.append(f"4{r.ssn[-4:]}")
    if r.phone:
        keys.append(f"t{r.phone[-7:]}")
    return keys


def query_keys(q: Normalized) -> list[str]:
    """Keys to look up for a search: a record's own keys, widened for how queries go wrong.

    A caller may give a nickname, or an age rather than a birth date, so the query also
    tries the name's other forms and the neighbouring birth years.
    """
    keys = record_keys(q)
    if q.first and q.last_key:
        for name in sorted(related_names(q.first))[:12]:
            key = nysiis(name)
            if key != q.first_key:
                a, b = sorted((key, q.last_key))
                keys.append(f"n{a}|{b}")
    if q.dob_year:
        initials = {q.first[0], *(name[0] for name in related_names(q.first))} if q.first else set()
        for year in (q.dob_year - 1, q.dob_year + 1):
            if q.last_key:
                keys.append(f"l{q.last_key}|{year}")
            if q.first_key:
                keys.append(f"f{q.first_key}|{year}")
        if q.last:
            for initial in sorted(initials):
                for year in (q.dob_year - 1, q.dob_year, q.dob_year + 1):
                    keys.append(f"x{initial}{q.last[0]}|{year}")
    return list(dict.fromkeys(keys))


def candidate_pairs(
    left: Sequence[Normalized],
    right: Sequence[Normalized] | None = None,
    *,
    max_block: int = MAX_BLOCK,
    kinds: frozenset[str] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs sharing at least one key: (i, j) with i < j for dedupe, or across for link.

    ``kinds`` keeps only keys of those kinds (their first letter, e.g. PERSON_KEYS).
    """
    pairs_left, pairs_right, _ = blocked_pairs(left, right, max_block=max_block, kinds=kinds)
    return pairs_left, pairs_right


def blocked_pairs(
    left: Sequence[Normalized],
    right: Sequence[Normalized] | None = None,
    *,
    max_block: int = MAX_BLOCK,
    kinds: frozenset[str] | None = None,
    marked: frozenset[str] = PERSON_KEYS,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """``candidate_pairs`` and, per pair, whether it shares a key of the ``marked`` kinds.

    One pass over the blocks gives both, so the pairs EM learns from (those sharing a
    person key) need no second blocking.
    """
    blocks_left = _blocks(left, kinds)
    chunks: list[npt.NDArray[np.int64]] = []
    marked_chunks: list[npt.NDArray[np.int64]] = []
    if right is None:
        n = len(left)
        for key, members in blocks_left.items():
            limit = max_block // _WEAK_SHARE if key[0] in _WEAK_KEYS else max_block
            if 1 < len(members) <= limit:
                idx = np.asarray(members, dtype=np.int64)
                a, b = _triangle(len(idx))
                codes = idx[a] * n + idx[b]
                (marked_chunks if key[0] in marked else chunks).append(codes)
        width = n
    else:
        blocks_right = _blocks(right, kinds)
        width = len(right)
        for key, members in blocks_left.items():
            others = blocks_right.get(key)
            limit = max_block // _WEAK_SHARE if key[0] in _WEAK_KEYS else max_block
            if others and len(members) * len(others) <= limit * limit // 2:
                ia = np.asarray(members, dtype=np.int64)
                ib = np.asarray(others, dtype=np.int64)
                codes = (ia[:, None] * width + ib[None, :]).ravel()
                (marked_chunks if key[0] in marked else chunks).append(codes)
    if not chunks and not marked_chunks:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=bool)
    marked_codes = np.unique(np.concatenate(marked_chunks)) if marked_chunks else None
    codes = np.unique(np.concatenate([*marked_chunks, *chunks]))
    if marked_codes is None:
        is_marked = np.zeros(len(codes), dtype=bool)
    else:
        # Both sorted and marked_codes a subset of codes: a binary search finds each.
        at = np.minimum(np.searchsorted(marked_codes, codes), len(marked_codes) - 1)
        is_marked = marked_codes[at] == codes
    width = max(width, 1)
    return codes // width, codes % width, is_marked


def _blocks(records: Sequence[Normalized], kinds: frozenset[str] | None) -> dict[str, list[int]]:
    blocks: defaultdict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        for key in record_keys(r):
            if kinds is None or key[0] in kinds:
                blocks[key].append(i)
    return blocks


@cache
def _triangle(size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``np.triu_indices(size, k=1)``, kept: blocks come in few sizes (at most MAX_BLOCK)."""
    a, b = np.triu_indices(size, k=1)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b
