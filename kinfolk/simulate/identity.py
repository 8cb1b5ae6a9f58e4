"""The persons file: every appearance of a person on a report or a removal, with realistic noise.

Each child named on a report, each caregiver named with them, each child at removal and each
relative caregiver of a kin home (the home study) becomes one *record*, as an intake worker
would type it. The true identity behind each record (its ``person_id``) goes to a separate
ground-truth table. The noise is what matching meets in
practice: typing errors, nicknames, a mother under her other surname or both hyphenated, a child
under the other parent's surname, missing, swapped or approximate dates of birth, missing SSNs
(most children), stale addresses after a family moved, missing phones. Siblings share surname
and address, twins also their date of birth, and a son may carry his father's name: these are
the hard negatives.

Behind the records, three side files: ``persons_links.csv`` (record_id, report_id,
household_id, role child / caregiver / kin_caregiver, provider_id of a kin home),
``households.csv`` (the families on the file: household_id, county, office, caregivers,
children) and ``relationships.csv`` (person_id, related_person_id, kind, read "PERSON is the
KIND of RELATED", with the ground-truth person ids of ``persons_truth.csv``). The persons file's
own header stays exactly the matching format.

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


LINKS_COLUMNS = ("record_id", "report_id", "household_id", "role", "provider_id")
HOUSEHOLDS_COLUMNS = ("household_id", "county", "office", "caregivers", "children")
RELATIONSHIPS_COLUMNS = ("person_id", "related_person_id", "kind")


@dataclass
class PersonsChunk:
    persons: pa.Table
    truth: pa.Table
    # What each record belongs to (report, family, role), the families and how people relate.
    links: pa.Table
    households: pa.Table
    relationships: pa.Table
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
    is_kin = kind == 3
    rec_hh = np.select(
        [is_child, is_kin], [ev.c_hh[np.where(is_child, index, 0)], index // 2], index
    )
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

    # Relative caregivers of kin homes: home 0 of a family is the mother's mother (her maiden
    # surname), home 1 an aunt or uncle on the father's side (the family surname); each lives
    # at an address of their own in the family's county.
    uk, k_pos = np.unique(np.where(is_kin, index, -1), return_inverse=True)
    uk_safe = np.maximum(uk, 0)
    k_hhpos = np.searchsorted(uh, uk_safe // 2)
    k_grand = uk_safe % 2 == 0
    k_sex = np.where(rng.random(uk.size) < np.where(k_grand, 0.8, 0.7), 2, 1)
    k_first = np.where(
        k_sex == 1,
        rng.choice(n_male, uk.size, p=names.male_p),
        n_male + rng.choice(len(names.female), uk.size, p=names.female_p),
    )
    k_middle = np.where(
        k_sex == 1,
        rng.choice(n_male, uk.size, p=names.male_p),
        n_male + rng.choice(len(names.female), uk.size, p=names.female_p),
    )
    k_last = np.where(k_grand, maiden[k_hhpos], surname[k_hhpos])
    k_age_gap = np.where(
        k_grand, np.clip(rng.normal(25, 4, uk.size), 16, 40), rng.normal(0, 5, uk.size)
    )
    k_dob = mother_dob[k_hhpos] - np.round(k_age_gap * YEAR).astype(np.int64)
    k_ssn = _ssn(rng, uk.size)
    k_county = county[k_hhpos]
    k_town = geo.town_start[k_county] + (rng.random(uk.size) * geo.town_count[k_county]).astype(
        np.int64
    )
    k_street_no = rng.integers(1, 9_999, uk.size)
    k_street_name = rng.choice(len(names.last), uk.size, p=names.last_p)
    k_street_suffix = rng.integers(0, len(STREET_SUFFIXES), uk.size)
    k_phone = geo.county_area_code[k_county] * 10_000_000 + rng.integers(
        2_000_000, 9_999_999, uk.size
    )

    # True values per record.
    hp = hh_pos
    cp = c_pos
    kp = k_pos
    is_mother = kind == 1
    who = [is_child, is_mother, is_kin]
    first = np.select(who, [c_first[cp], mother_first[hp], k_first[kp]], father_first[hp])
    middle = np.select(who, [c_middle[cp], mother_middle[hp], k_middle[kp]], father_middle[hp])
    last = np.where(is_kin, k_last[kp], surname[hp])
    dob = np.select(
        who,
        [ev.c_dob[np.where(is_child, index, 0)], mother_dob[hp], k_dob[kp]],
        father_dob[hp],
    )
    sex = np.select(who, [c_sex[cp], 2, k_sex[kp]], 1)
    ssn = np.select(who, [c_ssn[cp], mother_ssn[hp], k_ssn[kp]], father_ssn[hp])
    addr = (day >= moves[hp, 0]).astype(np.int64) + (day >= moves[hp, 1])
    addr = np.where(is_kin, 0, addr)
    child_id = ids("C", ev.chunk, index, 7)
    mother_id = ids("M", ev.chunk, rec_hh, 8)
    father_id = ids("D", ev.chunk, rec_hh, 8)
    kin_id = ids("G", ev.chunk, index, 9)
    person_id = pc.if_else(
        pa.array(is_child),
        child_id,
        pc.if_else(pa.array(is_mother), mother_id, pc.if_else(pa.array(is_kin), kin_id, father_id)),
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
        np.where(is_kin, k_street_no[kp], street_no[hp, addr]).astype(str).astype(object)
        + " "
        + names.last[np.where(is_kin, k_street_name[kp], street_name[hp, addr])].astype(object)
        + " "
        + STREET_SUFFIXES[np.where(is_kin, k_street_suffix[kp], street_suffix[hp, addr])].astype(
            object
        )
    )
    t = draw("street_typo", ~no_addr)
    street[t] = typo(rng, street[t]).astype(object)
    town_i = np.where(is_kin, k_town[kp], town[hp, addr])
    city = geo.town_name[town_i].astype(object)
    state = geo.county_state[county[hp]].astype(object)
    postcode = (geo.county_postcode[county[hp]] + (town_i - geo.town_start[county[hp]])).astype(
        np.int64
    )
    phone_rec = np.where(is_kin, k_phone[kp], phone[hp, addr])
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
    household_id = ids("H", ev.chunk, rec_hh, 8)
    report_id = pc.if_else(
        pa.array(ev.a_report >= 0),
        ids("R", ev.chunk, np.maximum(ev.a_report, 0), 8),
        pa.scalar("", pa.string()),
    )
    role = np.select([is_child, is_kin], ["child", "kin_caregiver"], "caregiver").astype(object)
    # The kin home as the placements file names it ("K" + chunk + home number).
    provider_id = pc.if_else(
        pa.array(is_kin),
        ids("K", ev.chunk, np.where(is_kin, index, 0), 9),
        pa.scalar("", pa.string()),
    )
    links = pa.table(
        {
            "record_id": record_id,
            "report_id": col(report_id),
            "household_id": col(household_id),
            "role": col(role),
            "provider_id": col(provider_id),
        }
    )
    return PersonsChunk(
        persons=persons,
        truth=truth,
        links=links,
        households=_households(ev, geo, uh),
        relationships=_relationships(ev, kind, index, rec_hh),
        applied={k: v[perm] for k, v in applied.items()},
        eligible={k: v[perm] for k, v in eligible.items()},
    )


def _households(ev: ChunkEvents, geo: Geography, uh: np.ndarray) -> pa.Table:
    """The families on the persons file: where they live, one or two caregivers, children."""
    kids = np.bincount(ev.c_hh, minlength=len(ev.hh_county))[uh]
    return pa.table(
        {
            "household_id": ids("H", ev.chunk, uh, 8),
            "county": pa.array(geo.county_code[ev.hh_county[uh]].astype(object), pa.string()),
            "office": pa.array(geo.office_code[ev.hh_office[uh]].astype(object), pa.string()),
            "caregivers": pa.array(1 + ev.hh_father[uh].astype(np.int64)),
            "children": pa.array(kids.astype(np.int64)),
        }
    )


def _relationships(
    ev: ChunkEvents, kind: np.ndarray, index: np.ndarray, rec_hh: np.ndarray
) -> pa.Table:
    """How the people on the persons file are related, read "PERSON is the KIND of RELATED".

    Only people with at least one record take part: parents of their children, mother and
    father as partners, siblings (once per pair, symmetric), and each relative caregiver of a
    kin home as grandparent (of the children, and parent of the mother) or aunt/uncle (of the
    children, and sibling of the father).
    """
    chunk = ev.chunk
    children = np.unique(index[kind == 0])  # sorted by child, hence by household
    child_hh = ev.c_hh[children]
    mothers = np.unique(rec_hh[kind == 1])
    fathers = np.unique(rec_hh[kind == 2])
    kin = np.unique(index[kind == 3])
    groups: list[tuple[pa.Array, pa.Array, str]] = []

    def add(a: pa.Array, b: pa.Array, what: str) -> None:
        groups.append((a, b, what))

    for parents, prefix in ((mothers, "M"), (fathers, "D")):
        has = np.isin(child_hh, parents)
        add(ids(prefix, chunk, child_hh[has], 8), ids("C", chunk, children[has], 7), "parent")
    both = np.intersect1d(mothers, fathers)
    add(ids("M", chunk, both, 8), ids("D", chunk, both, 8), "partner")
    # Siblings: children next to each other in household order, at every distance.
    for d in range(1, 8):
        same = child_hh[d:] == child_hh[:-d] if children.size > d else np.zeros(0, dtype=bool)
        if not same.any():
            break
        add(
            ids("C", chunk, children[:-d][same], 7),
            ids("C", chunk, children[d:][same], 7),
            "sibling",
        )
    # Relatives: to every child of the family on the file, and to the parent of their side.
    start = np.searchsorted(child_hh, kin // 2, side="left")
    count = np.searchsorted(child_hh, kin // 2, side="right") - start
    owner = np.repeat(np.arange(kin.size), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    kin_child = children[start[owner] + offset]
    grand = kin[owner] % 2 == 0
    for is_grand, what in ((True, "grandparent"), (False, "aunt_uncle")):
        pick = grand == is_grand
        add(ids("G", chunk, kin[owner][pick], 9), ids("C", chunk, kin_child[pick], 7), what)
    grand_kin = kin[(kin % 2 == 0) & np.isin(kin // 2, mothers)]
    add(ids("G", chunk, grand_kin, 9), ids("M", chunk, grand_kin // 2, 8), "parent")
    aunt_kin = kin[(kin % 2 == 1) & np.isin(kin // 2, fathers)]
    add(ids("G", chunk, aunt_kin, 9), ids("D", chunk, aunt_kin // 2, 8), "sibling")
    return pa.table(
        {
            "person_id": pa.concat_arrays([g[0] for g in groups]),
            "related_person_id": pa.concat_arrays([g[1] for g in groups]),
            "kind": pa.concat_arrays([pa.repeat(pa.scalar(g[2]), len(g[0])) for g in groups]),
        }
    )
