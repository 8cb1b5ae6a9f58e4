"""The persons file: every appearance of a person on a report or a removal, with realistic noise.

Each child named on a report, each caregiver named with them, and each child at removal becomes
one *record*, as an intake worker would type it. The true identity behind each record (its
``person_id``) goes to a separate ground-truth table. The noise is what matching meets in
practice: typing errors, nicknames, a mother under her other surname or both hyphenated, a child
under the other parent's surname, missing, swapped or approximate dates of birth, missing SSNs
(most children), stale addresses after a family moved, missing phones. Siblings share surname
and address, twins also their date of birth, and a son may carry his father's name: these are
the hard negatives.

Everything is an array operation; strings are edited as fixed-width code-point matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinfolk.simulate.geography import Geography
from kinfolk.simulate.model import YEAR, ChunkEvents, Window, chunk_rng, ids
from kinfolk.simulate.names import name_tables
from kinfolk.simulate.params import Params

PERSONS_COLUMNS = (
    "record_id",
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "sex",
    "ssn",
    "street",
    "city",
    "state",
    "postcode",
    "phone",
)
STREET_SUFFIXES = np.array(
    ["Street", "Avenue", "Road", "Drive", "Lane", "Court", "Place", "Way", "Boulevard", "Circle"]
)
WIDTH = 32


@dataclass
class PersonsChunk:
    persons: pa.Table
    truth: pa.Table
    # Which noise was applied to which record, and to which records it could apply (for tests).
    applied: dict[str, np.ndarray]
    eligible: dict[str, np.ndarray]


def typo(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One typing error per value: substitution, deletion, transposition or a doubled letter.

    Works on a fixed-width code-point matrix so a million edits are a few array operations.
    The first letter is left alone (people rarely mistype the initial).
    """
    n = len(values)
    if n == 0:
        return values.astype(f"<U{WIDTH}")
    text = values.astype(f"<U{WIDTH}")
    m = text.view(np.uint32).reshape(n, WIDTH).copy()
    length = (m != 0).sum(axis=1)
    can = length >= 3
    pos = 1 + (rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)  # 1 .. len-2
    op = rng.integers(0, 4, n)
    rows = np.arange(n)
    cols = np.arange(WIDTH)[None, :]
    padded = np.concatenate([m, np.zeros((n, 1), dtype=np.uint32)], axis=1)
    sub = can & (op == 0)
    m[rows[sub], pos[sub]] = ord("a") + rng.integers(0, 26, int(sub.sum()))
    dele = can & (op == 1)
    src = np.minimum(cols + (cols >= pos[:, None]), WIDTH)
    m[dele] = np.take_along_axis(padded[dele], src[dele], axis=1)
    swap = can & (op == 2)
    a = m[rows[swap], pos[swap]].copy()
    m[rows[swap], pos[swap]] = m[rows[swap], pos[swap] + 1]
    m[rows[swap], pos[swap] + 1] = a
    dup = can & (op == 3) & (length < WIDTH)
    src = np.maximum(cols - (cols > pos[:, None]), 0)
    m[dup] = np.take_along_axis(m[dup], src[dup], axis=1)
    return m.view(f"<U{WIDTH}").reshape(n)


def _ssn(rng: np.random.Generator, n: int) -> np.ndarray:
    # Area 001-665 (never 000, 666 or 9xx), group 01-99, serial 0001-9999: the valid shapes.
    area = rng.integers(1, 666, n)
    group = rng.integers(1, 100, n)
    serial = rng.integers(1, 10_000, n)
    return area * 1_000_000 + group * 10_000 + serial


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")


def _date_strings(days: np.ndarray) -> pa.Array:
    # Arrow renders date32 as ISO YYYY-MM-DD when cast to string.
    return pa.array(days.astype(np.int32)).cast(pa.date32()).cast(pa.string())


def person_tables(
    ev: ChunkEvents, geo: Geography, params: Params, seed: int, window: Window
) -> PersonsChunk:
    rng = chunk_rng(seed, ev.chunk, 1)
    names = name_tables()
    n_male = len(names.male)
    noise = {k.split(".", 1)[1]: params.num(k) for k in params.values if k.startswith("noise.")}

    kind, index, day = ev.a_kind, ev.a_index, ev.a_day
    n = kind.size
    is_child = kind == 0
    rec_hh = np.where(is_child, ev.c_hh[np.where(is_child, index, 0)], index)
    uh, hh_pos = np.unique(rec_hh, return_inverse=True)
    m = uh.size

    # Household identities (only for families that appear on a record).
    surname = rng.choice(len(names.last), m, p=names.last_p)
    maiden = rng.choice(len(names.last), m, p=names.last_p)
    mother_first = n_male + rng.choice(len(names.female), m, p=names.female_p)
    mother_middle = n_male + rng.choice(len(names.female), m, p=names.female_p)
    father_first = rng.choice(n_male, m, p=names.male_p)
    father_middle = rng.choice(n_male, m, p=names.male_p)
    first_dob = ev.hh_first_dob[uh]
    mother_dob = first_dob - np.round(np.clip(rng.normal(26, 5, m), 15, 42) * YEAR).astype(np.int64)
    father_dob = mother_dob - np.round(np.clip(rng.normal(2, 3, m), -4, 12) * YEAR).astype(np.int64)
    mother_ssn = _ssn(rng, m)
    father_ssn = _ssn(rng, m)
    # Up to three addresses: the family moves at a yearly rate.
    rate = params.num("population.household_moves_per_year")
    gaps = rng.exponential(YEAR / max(rate, 1e-9), (m, 2))
    moves = window.start + np.floor(np.cumsum(gaps, axis=1)).astype(np.int64)
    county = ev.hh_county[uh]
    town = geo.town_start[county][:, None] + (
        rng.random((m, 3)) * geo.town_count[county][:, None]
    ).astype(np.int64)
    street_no = rng.integers(1, 9_999, (m, 3))
    street_name = rng.choice(len(names.last), (m, 3), p=names.last_p)
    street_suffix = rng.integers(0, len(STREET_SUFFIXES), (m, 3))
    phone = geo.county_area_code[county][:, None] * 10_000_000 + rng.integers(
        2_000_000, 9_999_999, (m, 3)
    )

    # Child identities.
    uc, c_pos = np.unique(np.where(is_child, index, -1), return_inverse=True)
    child_valid = uc >= 0
    uc_safe = np.where(child_valid, uc, 0)
    c_sex = ev.c_sex[uc_safe]
    c_first = np.where(
        c_sex == 1,
        rng.choice(n_male, uc.size, p=names.male_p),
        n_male + rng.choice(len(names.female), uc.size, p=names.female_p),
    )
    c_middle = np.where(
        c_sex == 1,
        rng.choice(n_male, uc.size, p=names.male_p),
        n_male + rng.choice(len(names.female), uc.size, p=names.female_p),
    )
    c_hhpos = np.searchsorted(uh, ev.c_hh[uc_safe])
    junior = (c_sex == 1) & ev.hh_father[ev.c_hh[uc_safe]] & (rng.random(uc.size) < noise["junior"])
    c_first = np.where(junior, father_first[c_hhpos], c_first)
    c_ssn = _ssn(rng, uc.size)

    # True values per record.
    hp = hh_pos
    cp = c_pos
    first = np.select([is_child, kind == 1], [c_first[cp], mother_first[hp]], father_first[hp])
    middle = np.select([is_child, kind == 1], [c_middle[cp], mother_middle[hp]], father_middle[hp])
    last = surname[hp]
    dob = np.select(
        [is_child, kind == 1],
        [ev.c_dob[np.where(is_child, index, 0)], mother_dob[hp]],
        father_dob[hp],
    )
    sex = np.select([is_child, kind == 1], [c_sex[cp], 2], 1)
    ssn = np.select([is_child, kind == 1], [c_ssn[cp], mother_ssn[hp]], father_ssn[hp])
    addr = (day >= moves[hp, 0]).astype(np.int64) + (day >= moves[hp, 1])
    child_id = ids("C", ev.chunk, index, 7)
    mother_id = ids("M", ev.chunk, rec_hh, 8)
    father_id = ids("D", ev.chunk, rec_hh, 8)
    person_id = pc.if_else(
        pa.array(is_child), child_id, pc.if_else(pa.array(kind == 1), mother_id, father_id)
    )

    applied: dict[str, np.ndarray] = {}
    eligible: dict[str, np.ndarray] = {}

    def draw(name: str, can: np.ndarray) -> np.ndarray:
        hit = can & (rng.random(n) < noise[name])
        applied[name] = hit
        eligible[name] = can
        return hit

    everyone = np.ones(n, dtype=bool)
    # First name: nickname, then typo.
    # Strings are Python objects (cheap to hand to Arrow); only edited subsets become matrices.
    first_text = names.first_all[first].astype(object)
    has_nick = names.nick_count[first] > 0
    nick = draw("nickname", has_nick)
    pick = (rng.random(n) * np.maximum(names.nick_count[first], 1)).astype(np.int64)
    first_text[nick] = names.nick[first[nick], pick[nick]]
    t = draw("first_name_typo", everyone)
    first_text[t] = typo(rng, first_text[t]).astype(object)
    # Middle name: often missing, sometimes an initial.
    middle_text = names.first_all[middle].astype(object)
    gone = draw("middle_missing", everyone)
    initial = draw("middle_initial", ~gone)
    middle_text[initial] = middle_text[initial].astype("<U1").astype(object)
    middle_text[gone] = ""
    # Surnames: mothers under their other surname or hyphenated; children under the other one.
    last_text = names.last[last].astype(object)
    is_mother = kind == 1
    other = names.last[maiden[hp]].astype(object)
    use_maiden = draw("maiden_surname", is_mother)
    hyphen = draw("hyphenated_surname", is_mother & ~use_maiden)
    child_other = draw("child_other_surname", is_child)
    last_text[use_maiden | child_other] = other[use_maiden | child_other]
    last_text[hyphen] = last_text[hyphen] + "-" + other[hyphen]
    t = draw("last_name_typo", everyone)
    last_text[t] = typo(rng, last_text[t]).astype(object)
    # Date of birth: missing, day and month swapped, or approximate.
    dob_days = dob.copy()
    dob_dates = pa.array(dob_days.astype(np.int32)).cast(pa.date32())
    dd = np.asarray(pc.day(dob_dates))
    mm = np.asarray(pc.month(dob_dates))
    yy = np.asarray(pc.year(dob_dates))
    dob_gone = draw("dob_missing", everyone)
    swap = draw("dob_swap_day_month", ~dob_gone & (dd <= 12) & (dd != mm))
    approx = draw("dob_approximate", ~dob_gone & ~swap)
    dob_str = np.asarray(_date_strings(dob_days).to_numpy(zero_copy_only=False), dtype=object)
    swapped = np.char.add(
        np.char.add(yy[swap].astype(str), "-"),
        np.char.add(
            np.char.add(np.char.zfill(dd[swap].astype(str), 2), "-"),
            np.char.zfill(mm[swap].astype(str), 2),
        ),
    )
    dob_str[swap] = swapped
    # Approximate: half are "the first of the month", half are off by a year.
    first_of_month = approx & (rng.random(n) < 0.5)
    off_year = approx & ~first_of_month
    dob_str[first_of_month] = np.char.add(
        np.char.add(yy[first_of_month].astype(str), "-"),
        np.char.add(np.char.zfill(mm[first_of_month].astype(str), 2), "-01"),
    )
    shift = np.where(rng.random(n) < 0.5, -1, 1)
    dob_str[off_year] = np.char.add(
        (yy[off_year] + shift[off_year]).astype(str),
        np.char.add(
            np.char.add("-", np.char.zfill(mm[off_year].astype(str), 2)),
            np.char.add("-", np.char.zfill(np.minimum(dd[off_year], 28).astype(str), 2)),
        ),
    )
    dob_str[dob_gone] = ""
    # SSN: usually missing for children, often for adults; sometimes one digit wrong.
    ssn_gone = draw("ssn_missing_child", is_child) | draw("ssn_missing_adult", ~is_child)
    applied["ssn_missing"] = ssn_gone
    bad = draw("ssn_typo", ~ssn_gone)
    place = 10 ** rng.integers(0, 9, n)
    digit = (ssn // place) % 10
    new_digit = (digit + rng.integers(1, 10, n)) % 10
    ssn = np.where(bad, ssn + (new_digit - digit) * place, ssn)
    # Sex.
    sex_gone = draw("sex_missing", everyone)
    sex_text = np.where(sex_gone, "", np.where(sex == 1, "M", "F"))
    # Address: a stale (previous) address after a move; missing; street typo.
    stale = draw("address_stale", addr > 0)
    addr = np.where(stale, addr - 1, addr)
    no_addr = draw("address_missing", everyone)
    street = (
        street_no[hp, addr].astype(str).astype(object)
        + " "
        + names.last[street_name[hp, addr]].astype(object)
        + " "
        + STREET_SUFFIXES[street_suffix[hp, addr]].astype(object)
    )
    t = draw("street_typo", ~no_addr)
    street[t] = typo(rng, street[t]).astype(object)
    town_i = town[hp, addr]
    city = geo.town_name[town_i].astype(object)
    state = geo.county_state[county[hp]].astype(object)
    postcode = (geo.county_postcode[county[hp]] + (town_i - geo.town_start[county[hp]])).astype(
        np.int64
    )
    phone_rec = phone[hp, addr]
    phone_gone = draw("phone_missing", everyone)

    # Shuffle so that file order says nothing about identity.
    perm = rng.permutation(n)

    def col(values: np.ndarray | pa.Array, blank: np.ndarray | None = None) -> pa.Array:
        # Arrow converts Python str objects far faster than a NumPy fixed-width array.
        arr = (
            values
            if isinstance(values, pa.Array)
            else pa.array(np.asarray(values).astype(object), type=pa.string())
        )
        if blank is not None:
            arr = pc.if_else(pa.array(blank), pa.scalar(""), arr)
        return pc.take(arr, pa.array(perm))

    record_id = ids("N", ev.chunk, np.arange(n), 8)
    persons = pa.table(
        {
            "record_id": record_id,
            "first_name": col(first_text),
            "middle_name": col(middle_text),
            "last_name": col(last_text),
            "date_of_birth": col(dob_str),
            "sex": col(sex_text),
            "ssn": col(_digits(ssn, 9), ssn_gone),
            "street": col(street, no_addr),
            "city": col(city, no_addr),
            "state": col(state, no_addr),
            "postcode": col(_digits(postcode, 5), no_addr),
            "phone": col(_digits(phone_rec, 10), phone_gone),
        }
    )
    truth = pa.table({"record_id": record_id, "person_id": pc.take(person_id, pa.array(perm))})
    return PersonsChunk(
        persons=persons,
        truth=truth,
        applied={k: v[perm] for k, v in applied.items()},
        eligible={k: v[perm] for k, v in eligible.items()},
    )
